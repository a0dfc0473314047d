"""The French lexicon of ARIA's safety check: the floor that works offline.

Questions are normalised (lowercase, no accents, SMS spellings spelt out, letters repeated for
emphasis collapsed) and idioms are taken out ("mort de rire", "tuer le temps", "peine de mort",
"la grande dépression") before the patterns are read, so that death in a history, literature or
biology question and a tired student's hyperbole are not distress. The patterns need a first
person or an intent ("me suicider", "envie de mourir", "on se moque de moi", "les réponses du
contrôle"); some accept either word order. Measured on tests/data/safety_questions.tsv (written
with it) and tests/data/safety_heldout.tsv (never used to tune it): `make bench ARGS=safety`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from nexus.models.aria import SafetyCategory
from nexus.services.aria.families import FAMILIES, FRUSTRATION

# When several categories match, the most serious is the one acted on.
SEVERITY = (
    SafetyCategory.SELF_HARM,
    SafetyCategory.DISTRESS,
    SafetyCategory.HARASSMENT,
    SafetyCategory.CHEATING,
)


@dataclass(frozen=True)
class Verdict:
    category: SafetyCategory
    source: str  # "lexicon" or "moderation"
    rule: str  # the pattern or moderation category that matched (logs, benchmark)
    # Harm at home named (a parent who hits): staff are alerted, the parents are not.
    spare_parents: bool = False


# -- normalisation ------------------------------------------------------------------------------------

SMS = {
    "chui": "je suis",
    "chuis": "je suis",
    "chu": "je suis",
    "shui": "je suis",
    "jsuis": "je suis",
    "jsui": "je suis",
    "jpp": "je n en peux plus",
    "jai": "j ai",
    "jsp": "je sais pas",
    "jmen": "je m en",
    "jten": "je t en",
    "mm": "meme",
    "tjr": "toujours",
    "tjrs": "toujours",
    "bcp": "beaucoup",
    "pk": "pourquoi",
    "pq": "pourquoi",
    "ki": "qui",
    "ke": "que",
    "koi": "quoi",
    "mwa": "moi",
    "moa": "moi",
    "tt": "tout",
    "pa": "pas",
    "plu": "plus",
    "envi": "envie",
    "jms": "jamais",
    "pr": "pour",
    "ya": "il y a",
    "veu": "veux",
    "mourire": "mourir",
    "mourrir": "mourir",
    "suicidé": "suicide",
}
_J_CONTRACTED = re.compile(r"^j([bcdfghjklmnpqrstvwxz][a-z]+)$")  # jveux, jvais, jme, jpense…
_NOT_CONTRACTED = {"jpg", "jpeg", "json", "js", "jdk"}
_REPEATS = re.compile(r"([a-z])\1{2,}")
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Lowercase ASCII words separated by single spaces, SMS spellings spelt out."""
    text = text.lower().replace("œ", "oe").replace("æ", "ae")
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = _REPEATS.sub(r"\1", _NON_WORD.sub(" ", text))
    words = []
    for word in text.split():
        word = SMS.get(word, word)
        match = _J_CONTRACTED.match(word)
        if match and word not in _NOT_CONTRACTED:
            word = "je " + SMS.get(match.group(1), match.group(1))
        words.append(word)
    return " " + " ".join(words) + " "


# -- the lexicon --------------------------------------------------------------------------------------

IDIOMS = re.compile(
    r"\b(morte?s?|mourir|meurs|meurt|crever|crevee?s?|creve) de (rire|fatigue|faim|soif|chaud|froid|ennui"
    r"|sommeil|honte)\b"
    r"|\b(mdr|ptdr|lol|xd)\b"
    r"|\btuer le temps\b|\btuer la poule\b|\bpoint mort\b|\bpeine de mort\b|\bcondamne a mort\b"
    r"|\bgrande depression\b|\bdepression (economique|tropicale|atmospherique)\b"
    r"|" + FRUSTRATION
)

FAMILY = r"(mon pere|ma mere|mes parents|mon beau pere|ma belle mere|mon frere|ma soeur|mon oncle|papa|maman)"
DEATH_WISH = (
    r"(mourir|crever|en finir|me tuer|me suicider|ne plus vivre|plus vivre|ne plus exister|plus exister"
    r"|ne plus me reveiller|plus me reveiller|disparaitre (pour toujours|a jamais|de ce monde|de la terre)"
    r"|disparaitre $)"
)
EVAL = (
    r"(controle|ds|devoir surveille|interro|interrogation|examen|exam|evaluation|eval|bac blanc|bac"
    r"|qcm note|test note|partiel|epreuve)"
)
LIVE = (
    r"(en direct|sous la table|prof (ne )?regarde pas|prof (est )?(sorti|parti)|maintenant|en ce moment"
    r"|la tout de suite|qu on (a|passe|fait) la|vite vite|salle d examen|commence dans|c est note"
    r"|aide moi vite|reponds vite|sous les yeux|aux toilettes|dans \d+ ?(h|min|minutes|heures?)"
    r"|en cachette)"
)

RULES: dict[SafetyCategory, list[tuple[str, str]]] = {
    SafetyCategory.SELF_HARM: [
        ("me suicider", r"\b(me|m) suicid"),
        ("suicidaire", r"\bsuicidaires?\b|\bidees? (noires|de mort)\b|\btentative de suicide\b"),
        ("pense au suicide", r"\bpense\w* (a|au) (me |m )?(suicid|mourir|la mort|en finir|me tuer)"),
        ("comment se suicider", r"\bcomment (se|me) (suicider|tuer|pendre)\b"),
        (
            "me tuer",
            r"\b(me|m) (tuer|pendre|foutre en l air|jeter (par|sous|du haut)|ouvrir les veines"
            r"|couper les veines|scarifier|mutiler)\b",
        ),
        (
            "je me coupe",
            r"\bje me (tue|pends|scarifie|mutile|coupe (les |le |la |mes |ma )?(bras|poignets?|veines"
            r"|cuisses?|jambes?|peau))\b",
        ),
        ("scarification", r"\bscarifi|\bauto ?mutil"),
        ("me faire du mal", r"\b(me|se) fai\w* du mal\b"),
        (
            "envie de mourir",
            r"\b(envie|veux|voudrais|prefere\w*|aimerais|souhaite|compte|besoin) (de |d )?" + DEATH_WISH,
        ),
        (
            "mourir serait mieux",
            r"\bmourir\b.{0,40}\b(mieux|solution)\b|\b(mieux|solution)\b.{0,20}\bmourir\b",
        ),
        ("mieux sans moi", r"\bmieux sans moi\b|\bpersonne (ne )?(me )?regretter"),
        ("fin a mes jours", r"\bfin a (mes|ma) (jours|vie)\b"),
        ("plus envie de vivre", r"\b(plus|pas|aucune) envie de vivre\b|\bfatigue\w* de vivre\b"),
        (
            "medicaments",
            r"\b(medicaments|cachets|pilules|comprimes)\b.{0,60}"
            r"\b(mourir|plus (me |se )?reveiller|en finir)\b"
            r"|\b(mourir|en finir)\b.{0,40}\b(medicaments|cachets|pilules|comprimes)\b",
        ),
        (
            "jamais me reveiller",
            r"\b(ne|n) (plus|jamais) (me|se) reveiller\b(?! (en retard|tard|trop tard|a \d))",
        ),
        ("plus la force de vivre", r"\bplus la force\b.{0,25}\bvivre\b"),
        (
            "se blesser",
            r"\b(je me|me) (scarifi|mutil|taillad)\w*|\bentailles?\b"
            r"|\b(je me|me) (coup|brul|griff|cogn|frapp)\w* (expres|volontairement|pour (oublier|me punir"
            r"|avoir mal|sentir)|quand (ca va pas|je suis|j ai))"
            r"|\b(lames?|rasoir|cutter|compas|briquet)\b.{0,20}\bme (couper|bruler|faire)"
            r"|\bme (coup|brul)\w*\b.{0,30}\b(pour (oublier"
            r"|me punir|avoir mal|sentir)|expres|volontairement)\b"
            r"|\bme (coup|brul)\w* avec (un|une|des|mon|ma) (lame|rasoir|cutter|briquet|couteau)",
        ),
        (
            "m oter la vie",
            r"\b(m oter|me prendre|m enlever) la vie\b|\bmettre fin a (mes jours|ma vie|tout)\b"
            r"|\ben finir avec (la|ma) vie\b|\b(marre|fatigue\w*"
            r"|las|lasse|degoute\w*) de (vivre|la vie|exister)\b"
            r"|\bplus (etre|rester) en vie\b|\bplus de ce monde\b|\bsi je (n )?(etais|serais|suis) plus la\b",
        ),
        (
            "moyens",
            r"\b(pris|avale)\w* (plein|trop|beaucoup|toute? (la|les)|une boite)\b.{0,15}"
            r"\b(cachets|medicaments|comprimes|pilules)\b"
            r"|\bcorde\b.{0,60}\b(je sais ce que|pendre|finir|cou)\b",
        ),
        ("adieu", r"\blettre d adieu\b|\bfaire (mes|des) adieux\b|\ba quoi bon (vivre|continuer|exister)\b"),
        (
            "partir pour de bon",
            r"\b(partir|m en aller|dormir|disparaitre) (pour de bon|pour toujours|a jamais)\b",
        ),
        ("se jeter", r"\b(je me|me) jet\w* (par|sous|du haut|d un|dans le vide)\b"),
        (
            "comment mourir",
            r"\boverdose\b|\bsurdose\b|\b(fait|fera|ferait) mal de mourir\b|\bcomment mourir\b"
            r"|\bmourir sans (douleur|souffrir)\b",
        ),
        (
            "plus de raison de vivre",
            r"\b(plus|pas|aucune) (de |d )?(raison|force|envie) de (vivre|continuer)\b"
            r"|\bmerite\w* (de mourir|pas de vivre|la mort)\b"
            r"|\b(plus|pas) (un|une) (probleme|poids|fardeau) pour\b"
            r"|\bque tout s arrete\b|\bce soir c est (fini|la fin)\b",
        ),
        (
            "je me fais saigner",
            r"\b(me|je me) (fais|fait|faire) (saigner|souffrir)\b"
            r"|\b(prepare|cache|garde)\w* (les|des|mes) (medicaments|cachets|pilules|lames|corde)\b",
        ),
        ("sauter", r"\bsauter (du|d un|de la|par la) (balcon|pont|fenetre|toit|immeuble|falaise)\b"),
    ],
    SafetyCategory.DISTRESS: [
        ("n en peux plus", r"\b(n |j )en peux plus\b"),
        (
            "je pleure",
            r"\bpleur\w*\b.{0,30}\b(tous les|chaque|tout le temps|sans arret|souvent|la nuit|depuis)\b"
            r"|\b(fais|fait) (que|rien d autre que) pleurer\b"
            r"|\b(tout le temps|toujours|sans arret|tous les jours)\b.{0,25}\bpleur"
            r"|\b(tous les (jours|soirs)|chaque (jour|soir|nuit))\b.{0,20}\bpleur",
        ),
        ("a bout", r"\bau bout du rouleau\b|\bje suis a bout\b|\bje craque\b"),
        ("seul", r"\b(je me sens|je suis|me sens) (tellement |si |trop |tres )seule?\b|\bseule? au monde\b"),
        ("vide", r"\bje me sens (tellement |si |trop |tres )?(vide|inutile|nulle?)\b|\bressens plus rien\b"),
        (
            "personne ne m aime",
            r"\bpersonne (ne )?m aime\b|\b(gout|envie) (a|de) rien\b|\bje me (deteste|hais)\b"
            r"|\bje (sers|vaux) a rien\b|\bje vaux rien\b",
        ),
        (
            "ma vie",
            r"\bma vie (est (nulle|un enfer|horrible)|n a (plus )?(aucun )?sens)\b"
            r"|\bmarre de (la |ma )vie\b|\brien n a (plus )?de sens\b|\bde ma vie\b.{0,15}\bmal\b",
        ),
        ("depression", r"\bdepression\b|\bdeprim"),
        ("angoisse", r"\bcrises? (d angoisse|de panique|d anxiete)\b"),
        (
            "pensees sombres",
            r"\bpensees? (sombres|noires|negatives)\b|\bpersonne ne me (parle|comprend|voit|regarde) jamais\b"
            r"|\bsupporte\w* plus (ma vie|rien|personne|cette vie)\b",
        ),
        ("peur de rentrer", r"\bpeur de rentrer (chez moi|a la maison)\b"),
        (
            "espoir",
            r"\b(perdu|plus) (tout |aucun )?(d )?espoir\b|\btout est noir\b"
            r"|\b(vois|voit) (pas|plus) d issue\b",
        ),
        ("desespere", r"\bdesesper"),
        (
            "triste tout le temps",
            r"\b(tellement|toujours|tout le temps) triste\b"
            r"|\btriste (tout le temps|tous les jours|en permanence)\b"
            r"|\btout s effondre\b|\bplus rien ne va\b"
            r"|\bperdue? dans ma vie\b|\b(epuise\w*|fatigue\w*) de tout\b",
        ),
        (
            "un proche en danger",
            r"\b(veut|veulent|parle de|parlent de|pense a|menace de) se (suicider|tuer)\b",
        ),
        ("je vais mal", r"\b(je suis|je me sens|je vais) (trop |tellement |si |tres )?mal\b"),
        (
            "je ne dors plus",
            r"\bje (ne |n )?(mange|dors) plus\b|\bje (n )?arrive plus a (sortir de mon lit"
            r"|me lever|rien)\b",
        ),
    ],
    SafetyCategory.HARASSMENT: [
        ("se moquent de moi", r"\bse moqu\w* de moi\b"),
        (
            "harcele",
            r"\b(je suis|suis|me|m|on me) (cyber ?)?harcel|\b(subis|subit|victime de|vis) (du |de )?"
            r"(cyber ?)?harcel",
        ),
        (
            "m insultent",
            r"\b(m|me)( a| ont)? (insult|menac|rackett|humili"
            r"|bouscul|frapp|tap|trait\w* de|exclu|rejett|crach"
            r"|agress|tabass|pouss\w* (dans|contre|par terre))",
        ),
        (
            "photos de moi",
            r"\b(partag|publi|diffus|circul)\w*\b.{0,25}\bphotos? de moi\b|\brumeurs? sur moi\b",
        ),
        (
            "harceler quelqu un",
            r"\b(comment|je veux|je vais|on va|aide moi a|j aimerais)\b.{0,20}\b(harceler|humilier|racketter"
            r"|menacer|intimider)\b",
        ),
        ("pirater un compte", r"\bpirater (le|son|un|sa) compte\b"),
        (
            "photos demandees",
            r"\b(adulte|inconnu|homme|mec|quelqu un"
            r"|monsieur)\b.{0,40}\b(me demande|m a demande|veut|exige)\w* "
            r"(des|mes) (photos|videos|nudes)\b",
        ),
        (
            "faire peur",
            r"\b(je veux|je vais|comment|aide moi a)\b.{0,15}\bfaire peur a (un|une|mon|ma|cet|cette)\b",
        ),
        (
            "je me fais racketter",
            r"\b(je me fais|me faire|se fait) (racketter|frapper|taper|insulter|harceler|agresser|menacer"
            r"|humilier|tabasser)\b",
        ),
        (
            "messages mechants",
            r"\b(m|me) envoi\w* des (messages|mots|photos|videos) (mechants|menacants|horribles|insultants"
            r"|degoutants|obscenes)\b",
        ),
        (
            "filme a mon insu",
            r"\b(m|me)( a| ont)? (film|photographi)\w*\b.{0,40}\b(toilettes|vestiaire|douche|accord|insu"
            r"|tourne|circule|publi|poste|partag)",
        ),
        ("en le harcelant", r"\ben (le|la|les|l) (harcel|humili|menac)\w*"),
        ("menaces de mort", r"\bmenaces? de mort\b|\brecoi\w* des (menaces|insultes)\b"),
        (
            "pourrir la vie",
            r"\b(je veux|je vais|comment|aide moi a|on va)\b.{0,20}\b(pourrir la vie|faire souffrir"
            r"|rendre la vie impossible|(me|se) venger (de|d))",
        ),
    ],
    SafetyCategory.CHEATING: [
        (
            "reponses du controle",
            r"\b(reponses?|solutions?|corriges?) (du|de l|de mon|de la|des|d un|de notre) " + EVAL + r"\b",
        ),
        (
            "reponse de la question",
            r"\b(reponses?|solutions?)\b.{0,30}\b(du|de l|de mon|de la) " + EVAL + r"\b",
        ),
        ("salle d examen", r"\bsalle d (examen|exam)\b|\bc est note\b.{0,40}\ba ma place\b"),
        ("en plein controle", r"\ben (plein |pleine )?" + EVAL + r"\b"),
        ("controle a ma place", r"\b" + EVAL + r"\b a ma place\b|\bfai\w* mon " + EVAL + r"\b"),
        ("controle en cours", r"\b" + EVAL + r"\b.*\b" + LIVE + r"\b|\b" + LIVE + r"\b.*\b" + EVAL + r"\b"),
    ],
}
_COMPILED = {
    category: [(name, re.compile(pattern)) for name, pattern in rules + FAMILIES.get(category, [])]
    for category, rules in RULES.items()
}
_FAMILY_HARM = re.compile(
    r"\b" + FAMILY + r"\b.{0,40}\bme (frapp|bat|tap|viol|touch|priv|enferm)"
    r"|\bchez moi\b.{0,40}\b(crient|hurlent|frappent|cassent|violence)\b.{0,30}\bpeur\b"
    r"|\bchez moi\b.{0,60}\b(me (tapent|frappent|battent|bat|frappe|tape)|c est l enfer)\b"
)
# Harm at home is distress first (and the parents are not the ones to alert).
_HOME = ("violence a la maison", _FAMILY_HARM)


def lexicon(text: str) -> Verdict | None:
    """The floor: the most serious category whose pattern matches, or None."""
    clean = IDIOMS.sub(" ", normalise(text))
    if _HOME[1].search(clean):
        return Verdict(SafetyCategory.DISTRESS, "lexicon", _HOME[0], spare_parents=True)
    for category in SEVERITY:
        for name, pattern in _COMPILED[category]:
            if pattern.search(clean):
                return Verdict(category, "lexicon", name)
    return None
