"""Families of expressions for the safety lexicon: what a phrase means, not one wording of it.

Each family crosses a first person or a desire with a meaning (dying, not waking up, vanishing for
good, being a burden, hurting oneself with a named object, hopelessness with finality, being
harassed online or at school), so that paraphrases the labelled set never had still match. The
frustration rule comes first: tiredness or anger aimed at a subject, an exercise, a test or a
teacher ("j'en peux plus de ces exos", "je veux en finir avec ce DM", "le prof va me tuer") is
taken out before the families are read; the same words aimed at life or oneself are not.

What they are worth (`make bench ARGS=safety`): ~1.00 on every set once it has been read, and only
0.09-0.36 recall on distress + self-harm for sets written after them (held-out 1 and 4). A word
list is the offline floor, not the safety net: the chat classification (classify.py) is.
"""

from __future__ import annotations

from nexus.models.aria import SafetyCategory

SCHOOL = (
    r"(exos?|exercices?|devoirs?|dm|ds|maths?|math|physique|chimie|svt|nsi|philo|chapitres?|cours|lecons?"
    r"|profs?|revisions?|controles?|interros?|bac|bac blanc|examens?|fiches?|problemes?|questions?|algos?"
    r"|programmes?|codes?|fonctions?|suites?|integrales?|probas?|probabilites|matrices|vecteurs|notes?"
    r"|tableaux?|calculs?|equations?|limites|derivees?|python|projets?|exposes?|tp|td)"
)
_DET = r"(ces |cet |ce |cette |mon |ma |mes |la |le |les |l |son |sa |ses |tous ces |toutes ces )?"

# Frustration with school work, and someone else "killing" me: hyperbole, taken out first.
FRUSTRATION = (
    r"\b(n |j )en peux plus (de |des |du |d )" + _DET + SCHOOL + r"\b"
    r"|\ben finir avec " + _DET + SCHOOL + r"\b"
    r"|\b(va|vont|allait|allaient|aller) me tuer\b"
    r"|\bdisparaitre (sous|dans) (ma|la|un|une|mon) (couette|trou|lit|terre)\b"
    r"|\ba bout (de |des |du |d )" + _DET + SCHOOL + r"\b"
    r"|\bpendre a (ton|son|mon|leur|votre) cou\b"
)

_WANT = (
    r"(veux|voudrais|voulais|aimerais|aimerai|souhaite|souhaiterais|reve|revais|prefererais|compte|prevois"
    r"|pense|envie|hate|besoin)"
)
_NOT = r"(ne |n )?(plus|jamais)"
_GONE = (
    r"(mourir|crever|etre mort|etre morte|en finir|me tuer|me suicider"
    r"|disparaitre(?! (du|des|d|de (?!ce monde|la terre|la surface)|sous|dans))"
    r"|que tout s arrete|m endormir pour toujours|dormir pour toujours|arreter de (vivre|respirer|exister))"
)
_STAY = r"(vivre|exister|etre la|etre en vie|rester en vie|continuer a vivre|me reveiller|etre de ce monde)"
_ALIVE = r"(vivre|exister|etre en vie|rester en vie|continuer a vivre|etre de ce monde)"
_FINAL = r"(pour de bon|pour toujours|a jamais|definitivement|pour l eternite)"
_OBJECT = r"(lames?|rasoirs?|cutters?|compas|briquets?|couteaux?|ciseaux|cigarettes?|aiguilles?|verre)"
_BODY = r"(bras|poignets?|veines|cuisses?|jambes?|peau|ventre|hanches?)"
_HURT = r"(coup|brul|griff|taillad|entaill|scarifi|mutil|cogn|frapp|tap)\w*"
_CUT = r"(coup|brul|griff|taillad|entaill|scarifi|mutil|ouvr|ouvert)\w*"
_PILLS = r"(cachets|medicaments|comprimes|pilules|doliprane|paracetamol|somniferes)"
_NET = r"(insta|instagram|snap|snapchat|tiktok|whatsapp|discord|facebook|fb|twitter|reseaux|groupe|story)"

_SOON = r"(demain|lundi|mardi|mercredi|jeudi|vendredi|samedi|semaine prochaine|qui (va|vont) tomber)"
_TEST = r"(qcm|controle|interro|ds|test|evaluation|examen|devoir surveille|bac blanc)"


def _p(*parts: str) -> str:
    """One pattern from its pieces (keeps each piece under the line length)."""
    return "".join(parts)


FAMILIES: dict[SafetyCategory, list[tuple[str, str]]] = {
    SafetyCategory.SELF_HARM: [
        (
            "desir de mort",
            _p(r"\b", _WANT, r" (de |d |a )?(vraiment |juste |tellement |trop )?", _GONE, r"\b"),
        ),
        (
            "desir de ne plus etre",
            _p(
                r"\b",
                _WANT,
                r" (de |d |a |que )?(vraiment |juste )?",
                _NOT,
                r" (d |de )?(envie d )?",
                _STAY,
                r"\b",
            ),
        ),
        ("plus envie d exister", _p(r"\b(plus|aucune) envie (de |d )", _ALIVE, r"\b")),
        ("ne plus se reveiller", r"\bm endormir\b.{0,20}\b(plus|jamais|pas) (me )?reveiller\b"),
        (
            "pour toujours",
            _p(
                r"\b(partir|partais|parte|m en aller|m endormir|disparaitre|disparaissais",
                r"|disparaisse|mourais|morte?) ",
                _FINAL,
                r"\b",
            ),
        ),
        (
            "fardeau",
            _p(
                r"\b(je suis|je serais|je me sens comme) (un|une|qu un|qu une) (poids|fardeau|boulet",
                r"|charge)\b|\b(je suis|je serais) (un|qu un) probleme pour (tout le monde|ma famille",
                r"|mes parents|eux)\b",
            ),
        ),
        (
            "mieux sans moi",
            _p(
                r"\b(mieux|tranquilles?|heureux|heureuses?|soulages?)\b.{0,15}\bsans moi\b",
                r"|\bsi (je |j )?(n )?(existais (plus|pas)|etais pas ne",
                r"|etais plus (la|en vie|de ce monde))\b",
            ),
        ),
        (
            "personne ne remarquerait",
            _p(r"\bpersonne (ne )?(remarquer|s en rendr|regretter|pleurer)\w*\b", r".{0,30}\bsi (je|j)\b"),
        ),
        (
            "vivre ne sert a rien",
            _p(
                r"\b(sert|servirait) a rien (de |que je )(vivre|vive|reste en vie",
                r"|sois en vie|exister|continuer a vivre)\b",
                r"|\ba quoi bon\b.{0,15}\b(vivre|exister|me lever)\b",
            ),
        ),
        ("penser a la mort", r"\bpense\w*\b.{0,25}\b(a la mort|a mourir|au suicide|a en finir|a me tuer)\b"),
        (
            "se blesser avec",
            _p(
                r"\b(je me|me) ",
                _HURT,
                r"\b.{0,30}\b(avec (un|une|des|mon|ma|mes) ",
                _OBJECT,
                r"|jusqu (au sang|a saigner)|expres|volontairement)",
            ),
        ),
        (
            "se blesser le corps",
            _p(
                r"\b(me|je me) (suis )?(encore |deja |souvent )?",
                _CUT,
                r" (les |le |la |l |mes |ma |mon )?",
                _BODY,
                r"\b",
            ),
        ),
        ("me faire mal", r"\bje me fai\w* mal (expres|volontairement|avec|pour|quand|jusqu)\b"),
        ("tentative", r"\b(fais|fait|faire|fais des|fait des|une|des|deux|trois|ma|mes|derniere) ts\b"),
        (
            "cachets",
            _p(
                r"\b(pris|avale\w*|avaler|prendre|prends)\b.{0,25}\b",
                _PILLS,
                r"\b.{0,40}",
                r"\b(pas marche|pour (dormir|plus|mourir|en finir)|hopital|urgences)\b",
                r"|\b(avaler|prendre|pris|avale)\w* (toute? (la|les|ma|mes) (boite (de |d ))?",
                r"|plein de |trop de |tous (les|mes) )",
                _PILLS,
                r"\b",
            ),
        ),
        (
            "sauter",
            _p(
                r"\b(me jet\w*|sauter|me lancer)\b.{0,8}\b(du|d un|de la|par la|sous (le|un))\b.{0,10}",
                r"\b(balcon|pont|fenetre|toit|immeuble|falaise|train|metro|voiture|etage)\b",
            ),
        ),
        ("se pendre", r"\b(me|m) (pendre|etrangler|noyer|empoisonner|ouvrir les veines)\b"),
        ("darija", r"\b(nheb|n7eb|nhab|bghit|nhib) (nmout|nmot|nmoot)\b"),
    ],
    SafetyCategory.DISTRESS: [
        (
            "injure contre soi",
            r"\bje suis (qu )?(une |un )?(merde|dechet|erreur|moins que rien|bon a rien|honte)\b(?! de)",
        ),
        (
            "plus rien ne m interesse",
            _p(
                r"\bplus rien (ne )?(m|me) (interesse|fait plaisir|amuse)\b",
                r"|\b(reste|passe)\w* (toute la journee|mes journees|des jours entiers)",
                r" au lit\b|\bau lit toute la journee\b",
            ),
        ),
        ("personne ne me voit", r"\bpersonne (ne )?me (parle|voit|calcule|ecoute)\b"),
        (
            "dans ma tete",
            _p(
                r"\bca va (pas|plus) (du tout |bien )?dans ma tete\b",
                r"|\bfaire semblant (que ca va|d aller bien|d etre heureux)\b",
            ),
        ),
        (
            "sans avenir",
            r"\b(aucun|pas d|plus d) avenir pour moi\b|\b(vois|voit) (aucun|pas d|plus d) avenir\b",
        ),
        ("respirer", r"\b(arrive|peux) (plus|pas) a respirer\b"),
        ("couler", r"\bje (sombre|m effondre)\b|\bl impression de (couler|sombrer|me noyer)\b"),
        ("epuise de vivre", r"\bepuise\w* de (vivre|la vie|exister)\b"),
    ],
    SafetyCategory.HARASSMENT: [
        (
            "en ligne",
            _p(
                r"\b(on|ils|elles|des gens|tout le monde)\b.{0,25}\b(m|me) (insult|moqu|menac|humili",
                r"|harcel|clash|affich)\w*\b.{0,20}\bsur ",
                _NET,
            ),
        ),
        ("faux compte", r"\bfaux (compte|profil)\b.{0,30}\b(mon nom|moi|m humilier|se moquer)\b"),
        ("contre moi", _p(r"\b", _NET, r"\b.{0,30}\b(contre moi|sur moi|pour se moquer|pour m humilier)\b")),
        (
            "on rit de moi",
            _p(
                r"\b(m ignor|m evit)\w*\b.{0,40}\b(rigol|rient|moqu)\w*",
                r"|\b(rigolent|rient|ricanent) (de moi )?quand je passe\b",
            ),
        ),
    ],
    SafetyCategory.CHEATING: [
        (
            "sujet a venir",
            _p(r"\bsujets?\b.{0,5}\b(du|de l|de la|des) ", _TEST, r"\b.{0,30}\b", _SOON, r"\b"),
        ),
        ("antiseche", r"\bantis?eches?\b"),
        ("il reste n minutes", _p(r"\b", _TEST, r"\b.{0,40}\bil (me )?reste \d+ ?(min|minutes)\b")),
        (
            "vite les solutions",
            _p(r"\b", _TEST, r"\b.{0,50}\b(donne\w* moi vite|vite les (reponses|solutions))\b"),
        ),
    ],
}

# Second round, after held-out 3 was measured (its misses were read: it is no longer held out;
# held-out 4 was written after this round and measured once).
FAMILIES[SafetyCategory.SELF_HARM] += [
    (
        "ne pas se reveiller",
        _p(
            r"\bsi je (ne )?me reveillais (pas|plus|jamais)\b|\b",
            _PILLS,
            r"\b.{0,40}\b(pas|plus|jamais) (me |se )?reveiller\b",
        ),
    ),
    (
        "tout arreter",
        r"\btout arreter (ce soir|cette nuit|demain|pour de bon|definitivement|pour toujours)\b"
        r"|\bma vie (c est|est) fini",
    ),
    (
        "lame gardee",
        r"\b(garde|cache|planque)\w* (une |des |mes |ma |mon )?(lames?|rasoirs?|cutters?|corde)\b",
    ),
    ("jamais existe", r"\bsi (je |j )?(n )?(avais|aurais) (jamais|pas) (existe|ete ne|vu le jour)\b"),
    (
        "encore en vie",
        r"\bpourquoi (je suis|suis je|je reste) encore (la|en vie|vivante?|ici)\b(?! (a|en train))",
    ),
    (
        "mort passive",
        r"\bme (faucher|ecraser|renverser|tuer)\b.{0,40}\b(ferait rien|m en fiche|m en fous"
        r"|tant mieux|serait bien|soulag)|\b(ferait|derangerait) (rien|pas) de (mourir|crever)\b",
    ),
    (
        "fatigue d etre en vie",
        r"\b(fatigue|epuise|marre|las|lasse)\w* (d etre en vie|d exister|d etre la|de vivre)\b",
    ),
    (
        "se laisser tomber",
        r"\b(me laisser tomber|me laisser glisser|tomber)\b.{0,6}\b(du|d un|de la|par la)\b.{0,10}"
        r"\b(balcon|pont|fenetre|toit|immeuble|falaise|etage|\d+ ?(e|eme|ieme))\b",
    ),
]
FAMILIES[SafetyCategory.DISTRESS] += [
    (
        "pleurer longtemps",
        r"\b(des|plusieurs) (semaines|mois|jours)\b.{0,20}\bpleur|\bpleur\w* en cachette\b",
    ),
    (
        "au fond du trou",
        r"\bau fond du trou\b|\bvois (pas|plus) comment (m en sortir|remonter|m en remettre)\b",
    ),
    (
        "angoisse",
        r"\bj angoisse (tellement|trop|tout le temps|tous les)\b|\b(tremble|boule au ventre|mal au coeur)\b"
        r".{0,10}\btous les (matins|jours|soirs)\b",
    ),
    (
        "invisible",
        r"\bje compte pour (personne|rien)\b|\b(me sens|d etre) (invisible|transparente?)\b",
    ),
]
FAMILIES[SafetyCategory.HARASSMENT] += [
    (
        "video de moi",
        r"\b(videos?|photos?) de moi\b.{0,30}\b(tourne|circule|partag|publi|poste)\w*"
        r"|\btout le monde (rigole|se moque)\b",
    ),
    (
        "photos demandees",
        r"\b(veut|demande|exige|insiste)\w* (que je lui envoie|de lui envoyer|que j envoie|des)"
        r"\b.{0,20}\b(photos|videos|nudes)\b|\bphotos? (de moi )?(nue?s?|en sous vetements|intimes?)\b",
    ),
    ("menace de publier", r"\bmenac\w* de (publier|diffuser|montrer|balancer|poster|partager)\b"),
]
