"""Realistic demo data for a macrorrueda: an event definition and a participants spreadsheet.

The mix follows ProColombia's macrorruedas (DOMAIN.md): about 30% buyers from many countries, each
hosting a numbered table, and sellers from Colombian regions, in sector clusters with real HS codes,
certifications and es/en/pt product texts. Some participants arrive late, leave early or give a
talk. The spreadsheet uses Spanish headings, as organizers' spreadsheets do.

Deterministic: the same `seed` gives byte-identical rows (Faker and `random.Random` are seeded
here; nothing reads the global generator). Cost: about 1 ms per participant.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from faker import Faker

SPANISH_HEADINGS = {
    "email": "Correo electrónico",
    "full_name": "Nombre completo",
    "organization": "Empresa",
    "role": "Rol",
    "country": "País",
    "language": "Idioma",
    "timezone": "Zona horaria",
    "consent": "Consentimiento",
    "job_title": "Cargo",
    "phone": "Teléfono",
    "tax_id": "NIT",
    "city": "Ciudad",
    "region": "Departamento",
    "website": "Sitio web",
    "company_size": "Tamaño",
    "sectors": "Sectores",
    "spoken_languages": "Idiomas hablados",
    "offer_hs": "HS oferta",
    "offer_description": "Descripción oferta",
    "demand_hs": "HS demanda",
    "demand_description": "Descripción demanda",
    "target_markets": "Mercados objetivo",
    "certifications": "Certificaciones",
    "required_certifications": "Certificaciones requeridas",
    "women_led": "Liderada por mujeres",
    "peasant": "Campesina",
    "indigenous": "Indígena",
    "conflict_victim": "Víctima del conflicto",
    "unavailable": "No disponible",
    "host_table": "Mesa",
}


@dataclass(frozen=True, slots=True)
class Cluster:
    name: str
    isic: tuple[str, ...]
    hs: tuple[str, ...]
    offer_es: tuple[str, ...]
    demand: dict[str, tuple[str, ...]]
    certifications: tuple[str, ...]


CLUSTERS = (
    Cluster(
        "coffee",
        ("0122", "1061"),
        ("0901", "090111", "090121", "2101"),
        (
            "café especial de origen, grano verde y tostado",
            "café tostado y molido de altura",
            "extracto de café liofilizado",
        ),
        {
            "en": ("specialty green coffee beans", "roasted coffee for retail"),
            "es": ("café verde de especialidad",),
            "pt": ("café verde especial",),
        },
        ("organic", "fair_trade", "rainforest"),
    ),
    Cluster(
        "cocoa",
        ("0127", "1073"),
        ("1801", "1806", "180631"),
        ("cacao fino de aroma en grano", "chocolate de origen y coberturas", "nibs de cacao orgánico"),
        {
            "en": ("fine flavour cocoa beans", "origin chocolate bars"),
            "es": ("cacao en grano fino de aroma",),
            "pt": ("cacau fino em amêndoas",),
        },
        ("organic", "fair_trade"),
    ),
    Cluster(
        "flowers",
        ("0119",),
        ("0603", "060311", "060319"),
        (
            "rosas y claveles frescos de exportación",
            "flores tropicales y follajes",
            "bouquets de flores frescas",
        ),
        {
            "en": ("fresh cut roses", "tropical flowers and foliage"),
            "es": ("flores frescas de corte",),
            "pt": ("flores frescas de corte",),
        },
        ("globalgap", "rainforest"),
    ),
    Cluster(
        "fruit",
        ("0122", "1030"),
        ("0804", "080440", "0803", "0810", "2008"),
        (
            "aguacate hass fresco",
            "frutas exóticas frescas: gulupa, pitahaya, uchuva",
            "pulpas y conservas de fruta",
        ),
        {
            "en": ("fresh hass avocado", "exotic fruit: physalis, passion fruit, dragon fruit"),
            "es": ("aguacate hass y frutas exóticas",),
            "pt": ("abacate hass e frutas exóticas",),
        },
        ("globalgap", "organic", "haccp"),
    ),
    Cluster(
        "food",
        ("1079", "1030"),
        ("2106", "1905", "2008", "1704"),
        (
            "snacks saludables y productos de panadería",
            "confitería y dulces tradicionales",
            "preparaciones alimenticias y salsas",
        ),
        {
            "en": ("healthy snacks and bakery products", "confectionery and sauces"),
            "es": ("snacks y confitería",),
            "pt": ("snacks saudáveis e confeitaria",),
        },
        ("haccp", "halal", "kosher", "bpm"),
    ),
    Cluster(
        "cosmetics",
        ("2023",),
        ("3304", "3305", "330499"),
        (
            "cosméticos naturales con ingredientes amazónicos",
            "productos para el cuidado del cabello",
            "maquillaje y cuidado de la piel",
        ),
        {
            "en": ("natural skin care cosmetics", "hair care products"),
            "es": ("cosméticos naturales",),
            "pt": ("cosméticos naturais",),
        },
        ("bpm", "iso9001", "halal"),
    ),
    Cluster(
        "apparel",
        ("1410", "1520"),
        ("6109", "6204", "6212", "6403"),
        (
            "ropa deportiva y de control en algodón",
            "trajes de baño y ropa interior",
            "calzado de cuero hecho a mano",
        ),
        {
            "en": ("swimwear and activewear", "leather footwear"),
            "es": ("ropa interior y vestidos de baño",),
            "pt": ("moda praia e calçados de couro",),
        },
        ("iso9001",),
    ),
    Cluster(
        "furniture",
        ("3110",),
        ("9403", "940360", "4418"),
        (
            "muebles de madera maciza para hogar y hotel",
            "muebles de exterior y decoración",
            "carpintería y puertas de madera",
        ),
        {
            "en": ("solid wood furniture for hotels", "outdoor furniture"),
            "es": ("muebles de madera para hoteles",),
            "pt": ("móveis de madeira maciça",),
        },
        ("fsc",),
    ),
    Cluster(
        "autoparts",
        ("2930",),
        ("8708", "870830", "4011"),
        (
            "autopartes y sistemas de frenos",
            "arneses eléctricos para vehículos",
            "llantas y repuestos para motos",
        ),
        {
            "en": ("brake systems and auto parts", "wiring harnesses for vehicles"),
            "es": ("autopartes y repuestos",),
            "pt": ("autopeças e sistemas de freio",),
        },
        ("iso9001", "iatf16949"),
    ),
    Cluster(
        "software",
        ("6201", "6202"),
        (),
        (
            "desarrollo de software a la medida y nearshoring",
            "soluciones de analítica de datos e inteligencia artificial",
            "plataformas de comercio electrónico",
        ),
        {
            "en": ("nearshore software development", "data analytics services"),
            "es": ("desarrollo de software a la medida",),
            "pt": ("desenvolvimento de software sob medida",),
        },
        ("iso27001", "cmmi"),
    ),
)

BUYER_COUNTRIES = {
    "US": ("en", "America/New_York", 18),
    "CA": ("en", "America/Toronto", 5),
    "MX": ("es", "America/Mexico_City", 8),
    "ES": ("es", "Europe/Madrid", 6),
    "DE": ("en", "Europe/Berlin", 5),
    "NL": ("en", "Europe/Amsterdam", 4),
    "FR": ("en", "Europe/Paris", 3),
    "GB": ("en", "Europe/London", 4),
    "CL": ("es", "America/Santiago", 5),
    "PE": ("es", "America/Lima", 5),
    "EC": ("es", "America/Guayaquil", 4),
    "BR": ("pt", "America/Sao_Paulo", 6),
    "PA": ("es", "America/Panama", 3),
    "CR": ("es", "America/Costa_Rica", 3),
    "GT": ("es", "America/Guatemala", 3),
    "DO": ("es", "America/Santo_Domingo", 3),
    "AE": ("en", "Asia/Dubai", 3),
    "JP": ("en", "Asia/Tokyo", 2),
    "KR": ("en", "Asia/Seoul", 2),
    "CN": ("en", "Asia/Shanghai", 3),
    "PT": ("pt", "Europe/Lisbon", 2),
    "IT": ("en", "Europe/Rome", 2),
    "AR": ("es", "America/Argentina/Buenos_Aires", 2),
}

REGIONS = (
    ("Antioquia", "Medellín", 18),
    ("Bogotá D.C.", "Bogotá", 20),
    ("Valle del Cauca", "Cali", 12),
    ("Atlántico", "Barranquilla", 7),
    ("Santander", "Bucaramanga", 6),
    ("Caldas", "Manizales", 5),
    ("Risaralda", "Pereira", 5),
    ("Huila", "Neiva", 5),
    ("Nariño", "Pasto", 4),
    ("Bolívar", "Cartagena", 5),
    ("Cauca", "Popayán", 4),
    ("Tolima", "Ibagué", 3),
    ("Quindío", "Armenia", 3),
    ("Meta", "Villavicencio", 3),
)

_FAKERS = {"es": "es_CO", "pt": "pt_BR", "en": "en_US"}
_TLD = {
    "CO": "com.co",
    "MX": "com.mx",
    "BR": "com.br",
    "ES": "es",
    "DE": "de",
    "CL": "cl",
    "PE": "pe",
    "GB": "co.uk",
}
_SIZES = ("micro", "small", "small", "medium", "medium", "large")


def _ascii_slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", folded)[:24] or "empresa"


def build_event_definition(
    participants: int, *, start_on: date, slug: str = "macrorrueda-demo"
) -> dict[str, Any]:
    """An event definition (as plain data) sized for `participants`: two days of 16 slots."""
    buyers = max(1, round(participants * 0.3))
    tables = buyers + max(2, buyers // 20)
    day2 = start_on + timedelta(days=1)
    opens = start_on - timedelta(days=45)
    return {
        "slug": slug,
        "name": "Macrorrueda de Negocios Demo",
        "kind": "roundtable",
        "timezone": "America/Bogota",
        "languages": ["es", "en", "pt"],
        "default_language": "es",
        "venue": {
            "name": "Centro de Convenciones Cartagena de Indias",
            "address": "Getsemaní, Calle 24 # 8A-344",
            "city": "Cartagena",
            "country": "CO",
        },
        "registration_opens": f"{opens.isoformat()}T08:00:00",
        "registration_closes": f"{(start_on - timedelta(days=14)).isoformat()}T18:00:00",
        "requests_close": f"{(start_on - timedelta(days=7)).isoformat()}T18:00:00",
        "schedule": {
            "slot_minutes": 30,
            "gap_minutes": 0,
            "days": [
                {
                    "date": d.isoformat(),
                    "sessions": [
                        {
                            "name": "am",
                            "start": "08:00",
                            "end": "12:15",
                            "breaks": [{"start": "10:00", "end": "10:15"}],
                        },
                        {"name": "pm", "start": "14:00", "end": "18:00"},
                    ],
                }
                for d in (start_on, day2)
            ],
        },
        "tables": tables,
        "rules": {"min_meetings": 2, "max_meetings": 12, "request_policy": "sellers_to_buyers"},
        "usd_rates": {"COP": 0.00025, "EUR": 1.08, "BRL": 0.19, "MXN": 0.055},
    }


def build_participant_rows(
    participants: int, *, seed: int, with_errors: bool = False
) -> list[dict[str, Any]]:
    """Rows keyed by the canonical field names (see SPANISH_HEADINGS for the written headings)."""
    rng = random.Random(seed)
    fakers = {lang: Faker(locale) for lang, locale in _FAKERS.items()}
    for offset, faker in enumerate(fakers.values()):
        faker.seed_instance(seed * 7919 + offset)
    buyers = max(1, round(participants * 0.3))
    countries = list(BUYER_COUNTRIES)
    country_weights = [BUYER_COUNTRIES[c][2] for c in countries]
    used_emails: set[str] = set()
    rows: list[dict[str, Any]] = []
    # Popular clusters attract more companies, as coffee and fruit do at real macrorruedas.
    cluster_weights = [16, 8, 10, 14, 12, 9, 10, 7, 6, 8]
    for index in range(participants):
        is_buyer = index < buyers
        cluster = rng.choices(CLUSTERS, weights=cluster_weights)[0]
        if is_buyer:
            country = rng.choices(countries, weights=country_weights)[0]
            language, timezone, _ = BUYER_COUNTRIES[country]
            region, city = None, None
        else:
            country, language, timezone = "CO", "es", "America/Bogota"
            region, city, _ = rng.choices(REGIONS, weights=[r[2] for r in REGIONS])[0]
        faker = fakers[language]
        company = faker.company()
        first, last = faker.first_name(), faker.last_name()
        domain = f"{_ascii_slug(company)}.{_TLD.get(country, 'com')}"
        email = f"{_ascii_slug(first)}.{_ascii_slug(last)}@{domain}"
        while email in used_emails:
            email = f"{_ascii_slug(first)}.{_ascii_slug(last)}{rng.randint(2, 999)}@{domain}"
        used_emails.add(email)
        spoken = [language] + ([lang for lang in ("en", "es") if lang != language and rng.random() < 0.45])
        hs = rng.sample(cluster.hs, k=min(len(cluster.hs), rng.randint(1, 2))) if cluster.hs else []
        row: dict[str, Any] = {
            "email": email,
            "full_name": f"{first} {last}",
            "organization": company,
            "role": "comprador" if is_buyer else ("ambos" if rng.random() < 0.03 else "vendedor"),
            "country": country,
            "language": language,
            "timezone": timezone,
            "consent": "sí",
            "job_title": rng.choice(
                ("Gerente General", "Director Comercial", "Jefe de Compras", "Export Manager", "CEO")
            ),
            "phone": faker.phone_number(),
            "tax_id": f"{rng.randint(800_000_000, 999_999_999)}-{rng.randint(0, 9)}"
            if country == "CO"
            else "",
            "city": city or faker.city(),
            "region": region or "",
            "website": f"https://www.{domain}",
            "company_size": rng.choice(_SIZES),
            "sectors": ";".join(cluster.isic),
            "spoken_languages": ";".join(spoken),
        }
        if is_buyer:
            row["demand_hs"] = ";".join(hs)
            row["demand_description"] = rng.choice(cluster.demand[language])
            row["required_certifications"] = rng.choice(cluster.certifications) if rng.random() < 0.25 else ""
            row["host_table"] = f"T{index + 1}"
        else:
            row["offer_hs"] = ";".join(hs)
            row["offer_description"] = rng.choice(cluster.offer_es)
            markets = rng.sample(countries, k=rng.randint(2, 6))
            row["target_markets"] = ";".join(markets)
            row["certifications"] = ";".join(
                rng.sample(cluster.certifications, k=rng.randint(0, len(cluster.certifications)))
            )
            row["women_led"] = "sí" if rng.random() < 0.3 else "no"
            row["peasant"] = (
                "sí" if cluster.name in ("coffee", "cocoa", "fruit") and rng.random() < 0.15 else "no"
            )
            row["indigenous"] = "sí" if rng.random() < 0.03 else "no"
            row["conflict_victim"] = "sí" if rng.random() < 0.05 else "no"
        row["unavailable"] = _unavailability(rng)
        rows.append(row)
    if with_errors:
        rows.extend(_broken_rows(rows))
    return rows


def _unavailability(rng: random.Random) -> str:
    draw = rng.random()
    if draw < 0.05:  # arrives late on day one
        return ";".join(f"d1s{n:02d}" for n in range(1, 5))
    if draw < 0.10:  # leaves early on day two
        return ";".join(f"d2s{n:02d}" for n in range(11, 17))
    if draw < 0.13:  # gives a talk
        start = rng.randint(1, 15)
        day = rng.randint(1, 2)
        return f"d{day}s{start:02d};d{day}s{start + 1:02d}"
    return ""


def _broken_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with one deliberate, documented mistake each."""
    template = dict(rows[-1])
    first_email = rows[0]["email"]

    def variant(n: int, **changes: Any) -> dict[str, Any]:
        row = dict(template)
        row.update(email=f"error{n}.{template['email']}", host_table="")
        row.update(changes)
        return row

    return [
        variant(1, email="juan.perez@"),  # not an email address
        variant(2, country="Narnia"),  # not a country
        variant(3, offer_hs="09A1"),  # not an HS code
        variant(4, role="inversionista"),  # not a role
        variant(5, email=first_email),  # duplicate email
        variant(6, consent="no"),  # no data-protection consent
        variant(7, timezone="America/Medellin"),  # not an IANA time zone
        variant(8, unavailable="d9s99"),  # no such slot
    ]


BROKEN_ROW_COUNT = 8
