# ruff: noqa: E501 (SQL reads better unwrapped)
"""A centre at N times its real size, seeded with set-based SQL on top of the demo seed.

At factor 1: 500 families, 800 students, 6 coaches, 20,000 sessions, 100,000 credit-ledger
entries, 5,000 payments with their invoices, 2,000 ARIA conversations (and audit lines, contacts,
bilan requests, stage reservations, message threads in proportion); factor 10 is ten times that.
Every row goes in with INSERT … SELECT generate_series, one statement per table, and respects the
schema's constraints: each coach's sessions sit in its own hourly slots (no overlap), one student
per coach in a slot, one ACTIVE subscription per student, gap-free invoice numbers continuing the
month's sequence, one grant per lot (8 credits more than its sessions) and lots that never go
below zero. Seeded accounts share the
demo password, so any family can be signed into (`family_email(n)`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

DOMAIN = "scale.nexus-reussite.tn"
SLOTS_PER_DAY = 8  # 08:00–16:00 UTC, one-hour sessions
DAYS_BACK = 380  # the history starts 380 days ago; the last slots are a month ahead
MONTHS = 15  # one credit lot per student and month of the history (up to this month)


@dataclass(frozen=True)
class Sizes:
    families: int
    students: int
    coaches: int
    sessions: int
    ledger: int
    payments: int
    conversations: int
    audit: int
    contacts: int
    bilans: int
    stages: int
    reservations: int
    threads: int

    @classmethod
    def at(cls, factor: float) -> Sizes:
        def n(base: int) -> int:
            return max(1, round(base * factor))

        return cls(
            families=n(500), students=n(800), coaches=n(6), sessions=n(20_000), ledger=n(100_000),
            payments=n(5_000), conversations=n(2_000), audit=n(10_000), contacts=n(300), bilans=n(300),
            stages=n(2), reservations=n(500), threads=n(1_000),
        )  # fmt: skip


def family_email(n: int) -> str:
    """The parent of seeded family n (0-based)."""
    return f"parent{n}@{DOMAIN}"


def student_email(n: int) -> str:
    return f"eleve{n}@{DOMAIN}"


# Each statement gets the sizes as named parameters. Temporary tables map the seeded row number
# (n, 0-based) to the ids PostgreSQL gave.
# fmt: off
STEPS: list[tuple[str, str]] = [
    ("accounts", """
CREATE TEMP TABLE scale_hash AS
  SELECT password_hash FROM users WHERE email = 'parent@nexus-reussite.tn';
CREATE TEMP TABLE scale_ts AS SELECT date_trunc('day', now()) - make_interval(days => %(days_back)s) AS t0;
INSERT INTO users (email, password_hash, role, first_name, last_name, phone, is_active, activated_at, created_at)
SELECT 'parent' || n || '@' || %(domain)s, (SELECT password_hash FROM scale_hash), 'PARENT',
       (ARRAY['Nadia','Karim','Leila','Sami','Amel','Hatem','Ines','Walid'])[1 + n %% 8],
       'Famille' || n, '+216 20 ' || lpad((n %% 1000000)::text, 6, '0'), true, t0, t0 + make_interval(secs => n)
FROM generate_series(0, %(families)s - 1) n, scale_ts;
INSERT INTO users (email, password_hash, role, first_name, last_name, is_active, activated_at, created_at)
SELECT 'eleve' || n || '@' || %(domain)s, (SELECT password_hash FROM scale_hash), 'ELEVE',
       (ARRAY['Yasmine','Adam','Salma','Youssef','Mariem','Omar','Lina','Aziz'])[1 + n %% 8],
       'Famille' || (n %% %(families)s), true, t0, t0 + make_interval(secs => n)
FROM generate_series(0, %(students)s - 1) n, scale_ts;
INSERT INTO users (email, password_hash, role, first_name, last_name, is_active, activated_at, created_at)
SELECT 'coach' || n || '@' || %(domain)s, (SELECT password_hash FROM scale_hash), 'COACH',
       'Coach', 'Échelle' || n, true, t0, t0
FROM generate_series(0, %(coaches)s - 1) n, scale_ts;
CREATE TEMP TABLE scale_parents AS
  SELECT substring(email FROM '^parent(\\d+)@')::int AS n, id AS user_id, first_name, last_name, email
  FROM users WHERE email LIKE 'parent%%@' || %(domain)s;
INSERT INTO parent_profiles (user_id, city) SELECT user_id, 'Tunis' FROM scale_parents;
ALTER TABLE scale_parents ADD COLUMN profile_id bigint;
UPDATE scale_parents s SET profile_id = p.id FROM parent_profiles p WHERE p.user_id = s.user_id;
CREATE TEMP TABLE scale_students AS
  SELECT substring(email FROM '^eleve(\\d+)@')::int AS n, id AS user_id
  FROM users WHERE email LIKE 'eleve%%@' || %(domain)s;
ALTER TABLE scale_students ADD COLUMN parent_n int, ADD COLUMN student_id bigint;
UPDATE scale_students SET parent_n = n %% %(families)s;
INSERT INTO students (user_id, parent_id, grade, school)
SELECT s.user_id, p.profile_id, (ARRAY['SECONDE','PREMIERE','TERMINALE'])[1 + s.n %% 3], 'Lycée pilote'
FROM scale_students s JOIN scale_parents p ON p.n = s.parent_n ORDER BY s.n;
UPDATE scale_students s SET student_id = st.id FROM students st WHERE st.user_id = s.user_id;
CREATE TEMP TABLE scale_coaches AS
  SELECT substring(email FROM '^coach(\\d+)@')::int AS n, id AS user_id
  FROM users WHERE email LIKE 'coach%%@' || %(domain)s;
INSERT INTO coach_profiles (user_id, pseudonym, title, subjects)
SELECT user_id, 'Échelle ' || n, 'Coach', ARRAY['MATHEMATIQUES','NSI','FRANCAIS','PHYSIQUE_CHIMIE']::varchar[]
FROM scale_coaches;
ALTER TABLE scale_coaches ADD COLUMN coach_id bigint;
UPDATE scale_coaches s SET coach_id = c.id FROM coach_profiles c WHERE c.user_id = s.user_id;
CREATE INDEX ON scale_students (n); CREATE INDEX ON scale_parents (n); CREATE INDEX ON scale_students (student_id);
ANALYZE scale_students; ANALYZE scale_parents; ANALYZE scale_coaches;
"""),
    ("subscriptions", """
INSERT INTO subscriptions (student_id, plan, status, monthly_price_millimes, credits_per_month,
                           current_period_start, current_period_end, started_at, ended_at)
SELECT s.student_id, 'HYBRIDE', 'EXPIRED', 450000, 4, t0, t0 + interval '1 month', t0, t0 + interval '1 month'
FROM scale_students s, scale_ts WHERE s.n %% 3 = 0;
INSERT INTO subscriptions (student_id, plan, status, monthly_price_millimes, credits_per_month,
                           current_period_start, current_period_end, started_at)
SELECT s.student_id, (ARRAY['ACCES_PLATEFORME','HYBRIDE','IMMERSION'])[1 + s.n %% 3], 'ACTIVE',
       (ARRAY[150000, 450000, 750000])[1 + s.n %% 3], (ARRAY[0, 4, 8])[1 + s.n %% 3],
       date_trunc('month', now()), date_trunc('month', now()) + interval '1 month', t0 + interval '1 month'
FROM scale_students s, scale_ts WHERE s.n %% 5 <> 4;
"""),
    ("sessions", """
INSERT INTO session_bookings (student_id, coach_id, booked_by_id, subject, service, title, starts_at, ends_at,
                              credits_cost, status, room_name, cancelled_at, completed_at, created_at)
SELECT st.student_id, c.coach_id, p.user_id,
       (ARRAY['MATHEMATIQUES','NSI','FRANCAIS','PHYSIQUE_CHIMIE'])[1 + x.n %% 4], 'COURS_ONLINE',
       'Séance ' || x.n, x.starts_at, x.starts_at + interval '1 hour', 1,
       CASE WHEN x.starts_at > now() THEN (CASE WHEN x.n %% 25 = 3 THEN 'CANCELLED' ELSE 'SCHEDULED' END)
            WHEN x.n %% 25 < 3 THEN 'CANCELLED' WHEN x.n %% 25 < 5 THEN 'NO_SHOW' ELSE 'COMPLETED' END,
       'scale-' || x.n,
       CASE WHEN (x.starts_at > now()) = (x.n %% 25 = 3) AND x.n %% 25 < 4 THEN x.starts_at - interval '1 day' END,
       CASE WHEN x.starts_at <= now() AND x.n %% 25 >= 5 THEN x.starts_at + interval '1 hour' END,
       x.starts_at - interval '3 days'
FROM (SELECT n, t0 + make_interval(days => (n / %(coaches)s) / %(slots)s,
                                   hours => 8 + (n / %(coaches)s) %% %(slots)s) AS starts_at
      FROM generate_series(0, %(sessions)s - 1) n, scale_ts) x
JOIN scale_coaches c ON c.n = x.n %% %(coaches)s
JOIN scale_students st ON st.n = x.n %% %(students)s
JOIN scale_parents p ON p.n = st.parent_n;
"""),
    ("credit lots", """
INSERT INTO credit_lots (student_id, source, amount, granted_at, expires_at, period, reason, created_at)
SELECT s.student_id, 'SUBSCRIPTION', 8 + coalesce(b.sessions, 0), m.start, m.start + interval '2 months',
       to_char(m.start, 'YYYY-MM'), 'Allocation mensuelle', m.start
FROM scale_students s
CROSS JOIN (SELECT date_trunc('month', t0) + make_interval(months => k) AS start
            FROM generate_series(0, %(months)s - 1) k, scale_ts) m
LEFT JOIN (SELECT student_id, least(date_trunc('month', starts_at), date_trunc('month', now())) AS month,
                  count(*) AS sessions
           FROM session_bookings WHERE room_name LIKE 'scale-%%' GROUP BY 1, 2) b
  ON b.student_id = s.student_id AND b.month = m.start
WHERE m.start <= now();
CREATE TEMP TABLE scale_lots AS
  SELECT l.id AS lot_id, l.student_id, l.amount, l.granted_at, l.expires_at FROM credit_lots l
  JOIN scale_students s ON s.student_id = l.student_id;
CREATE INDEX ON scale_lots (student_id, granted_at); ANALYZE scale_lots;
"""),
    ("credit ledger", """
INSERT INTO credit_entries (student_id, lot_id, kind, amount, note, created_at)
SELECT student_id, lot_id, 'GRANT', amount, 'Allocation mensuelle', granted_at FROM scale_lots;
INSERT INTO credit_entries (student_id, lot_id, kind, amount, booking_id, created_at)
SELECT b.student_id, l.lot_id, 'CONSUME', -1, b.id, b.created_at
FROM session_bookings b JOIN scale_lots l
  ON l.student_id = b.student_id
 AND l.granted_at = least(date_trunc('month', b.starts_at), date_trunc('month', now()))
WHERE b.room_name LIKE 'scale-%%';
INSERT INTO credit_entries (student_id, lot_id, kind, amount, booking_id, created_at)
SELECT e.student_id, e.lot_id, 'REFUND', 1, e.booking_id, b.cancelled_at
FROM credit_entries e JOIN session_bookings b ON b.id = e.booking_id
WHERE b.status = 'CANCELLED' AND b.room_name LIKE 'scale-%%' AND e.kind = 'CONSUME';
INSERT INTO credit_entries (student_id, lot_id, kind, amount, note, created_at)
SELECT l.student_id, l.lot_id, 'EXPIRE', -sum(e.amount), 'Expiration du lot', l.expires_at
FROM scale_lots l JOIN credit_entries e ON e.lot_id = l.lot_id
WHERE l.expires_at < now() GROUP BY l.student_id, l.lot_id, l.expires_at HAVING sum(e.amount) > 0;
-- Pairs of adjustments (+0.5 then -0.5 on one lot) fill the ledger to its size, leaving balances alone.
INSERT INTO credit_entries (student_id, lot_id, kind, amount, note, actor_id, created_at)
SELECT l.student_id, l.lot_id, 'ADJUST', CASE WHEN g.k %% 2 = 0 THEN 0.5 ELSE -0.5 END,
       'Correction de saisie', (SELECT id FROM users WHERE email = 'assistante@nexus-reussite.tn'),
       least(now(), l.granted_at + make_interval(hours => 1 + (g.k %% 1200)::int))
FROM (SELECT k FROM generate_series(0, greatest(0,
        %(ledger)s - (SELECT count(*) FROM credit_entries e JOIN scale_lots l USING (lot_id))) - 1) k) g
JOIN (SELECT lot_id, student_id, granted_at, row_number() OVER (ORDER BY lot_id) - 1 AS i FROM scale_lots) l
  ON l.i = (g.k / 2) %% (SELECT count(*) FROM scale_lots);
"""),
    ("payments", """
INSERT INTO payments (payer_id, student_id, offer_code, amount_millimes, method, status, reference,
                      external_id, declared_at, processed_at, processed_by_id, created_at)
SELECT p.user_id, s.student_id, x.offer,
       CASE x.offer WHEN 'HYBRIDE' THEN 450000 WHEN 'IMMERSION' THEN 750000 WHEN 'CREDITS_10' THEN 300000
                    ELSE 150000 END,
       CASE WHEN x.n %% 4 = 1 THEN 'CLICTOPAY' ELSE 'BANK_TRANSFER' END, x.status,
       'SCL' || lpad(x.n::text, 8, '0'), CASE WHEN x.n %% 4 = 1 THEN 'scale-order-' || x.n END,
       x.at, CASE WHEN x.status <> 'PENDING' THEN x.at + interval '1 day' END,
       CASE WHEN x.status <> 'PENDING' THEN (SELECT id FROM users WHERE email = 'assistante@nexus-reussite.tn') END,
       x.at
FROM (SELECT n, (ARRAY['ACCES_PLATEFORME','HYBRIDE','IMMERSION','CREDITS_10'])[1 + (n / 7) %% 4] AS offer,
             CASE WHEN n < %(students)s AND n %% 50 = 7 THEN 'PENDING' WHEN n %% 17 = 3 THEN 'FAILED'
                  WHEN n %% 53 = 5 THEN 'REFUNDED' ELSE 'COMPLETED' END AS status,
             t0 + make_interval(secs => (n::float8 / %(payments)s * %(days_back)s * 86400)::int) AS at
      FROM generate_series(0, %(payments)s - 1) n, scale_ts) x
JOIN scale_students s ON s.n = x.n %% %(students)s
JOIN scale_parents p ON p.n = s.parent_n;
"""),
    ("invoices", """
CREATE TEMP TABLE scale_inv AS
SELECT pay.id AS payment_id, pay.payer_id, pay.student_id, pay.amount_millimes, pay.method, pay.status,
       pay.reference, pay.created_at,
       to_char(pay.created_at AT TIME ZONE 'Africa/Tunis', 'YYYYMM')::int AS ym,
       row_number() OVER (PARTITION BY to_char(pay.created_at AT TIME ZONE 'Africa/Tunis', 'YYYYMM')
                          ORDER BY pay.id) AS k
FROM payments pay WHERE pay.reference LIKE 'SCL%%';
INSERT INTO invoices (number, status, issued_at, due_at, beneficiary_id, student_id, payment_id, customer_name,
                      customer_email, issuer_name, issuer_address, subtotal_millimes, total_millimes, tax_regime,
                      payment_method, paid_at, paid_amount_millimes, payment_reference, cancelled_at, created_at)
SELECT i.ym || '-' || lpad((coalesce(q.current, 0) + i.k)::text, 4, '0'),
       CASE i.status WHEN 'COMPLETED' THEN 'PAID' WHEN 'PENDING' THEN 'SENT' ELSE 'CANCELLED' END,
       i.created_at, i.created_at + interval '15 days', i.payer_id, i.student_id, i.payment_id,
       u.first_name || ' ' || u.last_name, u.email, 'Nexus Réussite', 'Centre Urbain Nord, Tunis',
       i.amount_millimes, i.amount_millimes, 'TVA_NON_APPLICABLE', i.method,
       CASE WHEN i.status = 'COMPLETED' THEN i.created_at + interval '1 day' END,
       CASE WHEN i.status = 'COMPLETED' THEN i.amount_millimes END, i.reference,
       CASE WHEN i.status IN ('FAILED', 'REFUNDED') THEN i.created_at + interval '1 day' END, i.created_at
FROM scale_inv i JOIN users u ON u.id = i.payer_id LEFT JOIN invoice_sequences q ON q.year_month = i.ym;
INSERT INTO invoice_sequences (year_month, current)
SELECT ym, max(k) FROM scale_inv GROUP BY ym
ON CONFLICT (year_month) DO UPDATE SET current = invoice_sequences.current + excluded.current;
INSERT INTO invoice_items (invoice_id, label, qty, unit_price_millimes, total_millimes)
SELECT v.id, 'Formule', 1, v.subtotal_millimes, v.subtotal_millimes
FROM invoices v JOIN scale_inv i ON i.payment_id = v.payment_id;
"""),
    ("aria", """
INSERT INTO aria_conversations (student_id, subject, title, created_at, updated_at)
SELECT s.student_id, (ARRAY['MATHEMATIQUES','NSI','FRANCAIS','PHYSIQUE_CHIMIE'])[1 + x.n %% 4],
       'Question ' || x.n, x.at, x.at + interval '10 minutes'
FROM (SELECT n, t0 + make_interval(secs => (n::float8 / %(conversations)s * %(days_back)s * 86400)::int) AS at
      FROM generate_series(0, %(conversations)s - 1) n, scale_ts) x
JOIN scale_students s ON s.n = x.n %% %(students)s;
CREATE TEMP TABLE scale_conv AS
  SELECT c.id, c.created_at FROM aria_conversations c JOIN scale_students s ON s.student_id = c.student_id;
INSERT INTO aria_messages (conversation_id, role, content, created_at)
SELECT c.id, 'USER', 'Comment résoudre cette équation du second degré ? (' || k || ')',
       c.created_at + make_interval(mins => 4 * k)
FROM scale_conv c, generate_series(0, 1) k;
INSERT INTO aria_messages (conversation_id, role, content, mode, reply_to_id, created_at)
SELECT m.conversation_id, 'ASSISTANT', 'On calcule le discriminant, puis les racines.', 'OFFLINE', m.id,
       m.created_at + interval '1 minute'
FROM aria_messages m JOIN scale_conv c ON c.id = m.conversation_id WHERE m.role = 'USER';
"""),
    ("staff tables", """
INSERT INTO audit_log (actor_id, action, object_type, object_id, after, created_at)
SELECT (SELECT id FROM users WHERE email = 'assistante@nexus-reussite.tn'),
       (ARRAY['payment.approve','credits.grant','account.updated','booking.cancel'])[1 + n %% 4], 'payment', n,
       '{"status": "COMPLETED"}'::jsonb,
       t0 + make_interval(secs => (n::float8 / %(audit)s * %(days_back)s * 86400)::int)
FROM generate_series(0, %(audit)s - 1) n, scale_ts;
INSERT INTO contact_messages (name, email, phone, topic, message, handled_at, created_at)
SELECT 'Contact ' || n, 'contact' || n || '@' || %(domain)s, '+216 71 000 000', 'information',
       'Bonjour, je voudrais des informations sur les stages.',
       CASE WHEN n %% 3 > 0 THEN t0 + make_interval(days => n %% %(days_back)s, hours => 2) END,
       t0 + make_interval(days => n %% %(days_back)s)
FROM generate_series(0, %(contacts)s - 1) n, scale_ts;
INSERT INTO bilan_requests (parent_first_name, parent_last_name, parent_email, parent_phone, student_first_name,
                            student_last_name, grade, subjects, status, created_at)
SELECT 'Parent', 'Bilan' || n, 'bilan' || n || '@' || %(domain)s, '+216 22 000 000', 'Élève', 'Bilan' || n,
       (ARRAY['SECONDE','PREMIERE','TERMINALE'])[1 + n %% 3], ARRAY['MATHEMATIQUES']::varchar[],
       (ARRAY['RECEIVED','CONTACTED','CONVERTED','CLOSED'])[1 + n %% 4], t0 + make_interval(days => n %% %(days_back)s)
FROM generate_series(0, %(bilans)s - 1) n, scale_ts;
INSERT INTO stages (title, slug, description, starts_on, ends_on, grade, subjects, price_millimes, seats, published)
SELECT 'Stage intensif ' || n, 'stage-echelle-' || n, 'Stage', (now() + make_interval(days => 30 + n))::date,
       (now() + make_interval(days => 35 + n))::date, 'TERMINALE', ARRAY['MATHEMATIQUES']::varchar[], 300000,
       %(reservations)s, true
FROM generate_series(0, %(stages)s - 1) n;
INSERT INTO stage_reservations (stage_id, parent_name, student_name, email, phone, grade, status, reference,
                                created_at)
SELECT st.id, 'Parent ' || n, 'Élève ' || n, 'stage' || n || '@' || %(domain)s, '+216 23 000 000', 'TERMINALE',
       (ARRAY['PENDING','CONFIRMED','PAID','CANCELLED'])[1 + n %% 4], 'SCLR' || lpad(n::text, 7, '0'),
       now() - make_interval(days => n %% 90)
FROM generate_series(0, %(reservations)s - 1) n
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i FROM stages WHERE slug LIKE 'stage-echelle-%%') st
  ON st.i = n %% %(stages)s;
"""),
    ("message threads", """
INSERT INTO message_threads (subject, student_id, with_staff, status, created_by_id, last_message_at, created_at)
SELECT 'Question sur le planning ' || x.n, s.student_id, true, CASE WHEN x.n %% 3 = 0 THEN 'OPEN' ELSE 'HANDLED' END,
       p.user_id, x.at + interval '2 hours', x.at
FROM (SELECT n, t0 + make_interval(secs => (n::float8 / %(threads)s * %(days_back)s * 86400)::int) AS at
      FROM generate_series(0, %(threads)s - 1) n, scale_ts) x
JOIN scale_students s ON s.n = x.n %% %(students)s JOIN scale_parents p ON p.n = s.parent_n;
CREATE TEMP TABLE scale_threads AS
  SELECT t.id, t.created_by_id, t.created_at FROM message_threads t JOIN scale_parents p ON p.user_id = t.created_by_id;
INSERT INTO thread_participants (thread_id, user_id, last_read_at) SELECT id, created_by_id, created_at FROM scale_threads;
INSERT INTO messages (thread_id, author_id, body, created_at)
SELECT t.id, CASE WHEN k = 1 THEN (SELECT id FROM users WHERE email = 'assistante@nexus-reussite.tn')
                  ELSE t.created_by_id END,
       'Bonjour, message ' || k, t.created_at + make_interval(hours => k)
FROM scale_threads t, generate_series(0, 2) k;
"""),
]
# fmt: on


def statements(sql: str) -> list[str]:
    """The statements of a step (no literal holds a semicolon): parameters need one at a time."""
    return [s.strip() for s in sql.split(";") if s.strip()]


def params(sizes: Sizes) -> dict[str, object]:
    return {
        **sizes.__dict__,
        "domain": DOMAIN,
        "slots": SLOTS_PER_DAY,
        "days_back": DAYS_BACK,
        "months": MONTHS,
    }


def fill(conn: psycopg.Connection, factor: float, log: Callable[[str], None] = print) -> Sizes:
    """Insert the centre at `factor` through `conn`, inside its transaction (no commit)."""
    sizes = Sizes.at(factor)
    values = params(sizes)
    for name, sql in STEPS:
        started = time.monotonic()
        for statement in statements(sql):
            conn.execute(statement, values)  # type: ignore[arg-type]
        log(f"  {name}: {time.monotonic() - started:.1f} s")
    return sizes


def seed(conninfo: str, factor: float, log: Callable[[str], None] = print) -> Sizes:
    """Seed the centre at `factor` on top of the demo data, commit, then VACUUM ANALYZE."""
    with psycopg.connect(conninfo) as conn:
        sizes = fill(conn, factor, log)
        conn.commit()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        started = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        log(f"  vacuum analyze: {time.monotonic() - started:.1f} s")
    return sizes


def counts(conninfo: str) -> dict[str, int]:
    """Rows per table that the scale sizes speak of (the demo's rows included)."""
    tables = ["parent_profiles", "students", "coach_profiles", "session_bookings", "credit_entries",
              "payments", "invoices", "aria_conversations"]  # fmt: skip
    with psycopg.connect(conninfo) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # type: ignore[index]  # noqa: S608 (our names)
