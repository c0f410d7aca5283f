"""The Harmonized System's chapters (two-digit codes) with short names in en, es and pt, and the
search behind the portal's HS-code picker.

Participants may give any valid 2-, 4- or 6-digit code; the picker helps them find the chapter by
words in their own language (accents and case ignored) or by the first digits of a code.
Chapter 77 is reserved by the WCO and has no entry. Cost: a linear scan of 96 short entries.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# code: (English, Spanish, Portuguese)
CHAPTERS: dict[str, tuple[str, str, str]] = {
    "01": ("Live animals", "Animales vivos", "Animais vivos"),
    "02": ("Meat and edible offal", "Carne y despojos comestibles", "Carnes e miudezas comestíveis"),
    "03": ("Fish and seafood", "Pescados y mariscos", "Peixes e frutos do mar"),
    "04": ("Dairy, eggs, honey", "Lácteos, huevos, miel", "Laticínios, ovos, mel"),
    "05": ("Other animal products", "Otros productos de origen animal", "Outros produtos de origem animal"),
    "06": (
        "Live plants and cut flowers",
        "Plantas vivas y flores cortadas",
        "Plantas vivas e flores cortadas",
    ),
    "07": ("Vegetables", "Hortalizas y legumbres", "Hortaliças e legumes"),
    "08": ("Fruit and nuts", "Frutas y frutos secos", "Frutas e castanhas"),
    "09": (
        "Coffee, tea, mate and spices",
        "Café, té, yerba mate y especias",
        "Café, chá, mate e especiarias",
    ),
    "10": ("Cereals", "Cereales", "Cereais"),
    "11": (
        "Milling products, malt, starches",
        "Productos de molinería, malta, almidones",
        "Produtos da moagem, malte, amidos",
    ),
    "12": (
        "Oil seeds and oleaginous fruits",
        "Semillas y frutos oleaginosos",
        "Sementes e frutos oleaginosos",
    ),
    "13": (
        "Gums, resins, plant extracts",
        "Gomas, resinas, extractos vegetales",
        "Gomas, resinas, extratos vegetais",
    ),
    "14": (
        "Vegetable plaiting materials",
        "Materias trenzables vegetales",
        "Matérias para entrançar vegetais",
    ),
    "15": (
        "Animal and vegetable fats and oils",
        "Grasas y aceites animales o vegetales",
        "Gorduras e óleos animais ou vegetais",
    ),
    "16": ("Meat and fish preparations", "Preparaciones de carne o pescado", "Preparações de carne ou peixe"),
    "17": (
        "Sugars and sugar confectionery",
        "Azúcares y artículos de confitería",
        "Açúcares e produtos de confeitaria",
    ),
    "18": ("Cocoa and cocoa preparations", "Cacao y sus preparaciones", "Cacau e suas preparações"),
    "19": (
        "Cereal, flour and bakery preparations",
        "Preparaciones de cereales, harina y panadería",
        "Preparações de cereais, farinhas e padaria",
    ),
    "20": (
        "Vegetable and fruit preparations",
        "Preparaciones de hortalizas y frutas",
        "Preparações de hortaliças e frutas",
    ),
    "21": (
        "Miscellaneous edible preparations",
        "Preparaciones alimenticias diversas",
        "Preparações alimentícias diversas",
    ),
    "22": ("Beverages, spirits and vinegar", "Bebidas, licores y vinagre", "Bebidas, destilados e vinagre"),
    "23": (
        "Food industry residues, animal feed",
        "Residuos de la industria alimentaria, alimento para animales",
        "Resíduos da indústria alimentar, rações",
    ),
    "24": ("Tobacco", "Tabaco", "Tabaco"),
    "25": (
        "Salt, sulphur, earths, stone, cement",
        "Sal, azufre, tierras, piedras, cemento",
        "Sal, enxofre, terras, pedras, cimento",
    ),
    "26": ("Ores, slag and ash", "Minerales metalíferos, escorias y cenizas", "Minérios, escórias e cinzas"),
    "27": ("Mineral fuels and oils", "Combustibles y aceites minerales", "Combustíveis e óleos minerais"),
    "28": ("Inorganic chemicals", "Productos químicos inorgánicos", "Produtos químicos inorgânicos"),
    "29": ("Organic chemicals", "Productos químicos orgánicos", "Produtos químicos orgânicos"),
    "30": ("Pharmaceutical products", "Productos farmacéuticos", "Produtos farmacêuticos"),
    "31": ("Fertilisers", "Abonos", "Adubos e fertilizantes"),
    "32": (
        "Tanning and dyeing extracts, paints",
        "Extractos curtientes y tintóreos, pinturas",
        "Extratos tanantes e tintoriais, tintas",
    ),
    "33": (
        "Essential oils, perfumery, cosmetics",
        "Aceites esenciales, perfumería, cosméticos",
        "Óleos essenciais, perfumaria, cosméticos",
    ),
    "34": (
        "Soap, washing and waxes",
        "Jabones, productos de limpieza y ceras",
        "Sabões, produtos de limpeza e ceras",
    ),
    "35": (
        "Albuminoids, glues, enzymes",
        "Materias albuminoideas, colas, enzimas",
        "Matérias albuminoides, colas, enzimas",
    ),
    "36": ("Explosives, matches", "Explosivos, fósforos", "Explosivos, fósforos"),
    "37": ("Photographic goods", "Productos fotográficos", "Produtos fotográficos"),
    "38": ("Miscellaneous chemical products", "Productos químicos diversos", "Produtos químicos diversos"),
    "39": ("Plastics", "Plásticos y sus manufacturas", "Plásticos e suas obras"),
    "40": ("Rubber", "Caucho y sus manufacturas", "Borracha e suas obras"),
    "41": ("Raw hides, skins and leather", "Pieles y cueros", "Peles e couros"),
    "42": (
        "Leather goods, handbags, travel goods",
        "Manufacturas de cuero, bolsos, artículos de viaje",
        "Obras de couro, bolsas, artigos de viagem",
    ),
    "43": ("Furskins", "Peletería", "Peles com pelo"),
    "44": ("Wood and wood products", "Madera y sus manufacturas", "Madeira e suas obras"),
    "45": ("Cork", "Corcho", "Cortiça"),
    "46": ("Basketwork and wickerwork", "Cestería", "Cestaria"),
    "47": ("Pulp of wood", "Pasta de madera", "Pasta de madeira"),
    "48": ("Paper and paperboard", "Papel y cartón", "Papel e cartão"),
    "49": ("Printed books and newspapers", "Libros e impresos", "Livros e impressos"),
    "50": ("Silk", "Seda", "Seda"),
    "51": ("Wool and animal hair", "Lana y pelo animal", "Lã e pelos de animais"),
    "52": ("Cotton", "Algodón", "Algodão"),
    "53": (
        "Other vegetable textile fibres",
        "Otras fibras textiles vegetales",
        "Outras fibras têxteis vegetais",
    ),
    "54": (
        "Man-made filaments",
        "Filamentos sintéticos o artificiales",
        "Filamentos sintéticos ou artificiais",
    ),
    "55": (
        "Man-made staple fibres",
        "Fibras sintéticas o artificiales discontinuas",
        "Fibras sintéticas ou artificiais descontínuas",
    ),
    "56": (
        "Wadding, felt, twine, ropes",
        "Guata, fieltro, cordeles, cuerdas",
        "Pastas, feltros, cordéis, cordas",
    ),
    "57": ("Carpets", "Alfombras", "Tapetes"),
    "58": ("Special woven fabrics, lace", "Tejidos especiales, encajes", "Tecidos especiais, rendas"),
    "59": ("Coated textile fabrics", "Tejidos recubiertos", "Tecidos revestidos"),
    "60": ("Knitted fabrics", "Tejidos de punto", "Tecidos de malha"),
    "61": ("Knitted apparel", "Prendas de vestir de punto", "Vestuário de malha"),
    "62": ("Apparel, not knitted", "Prendas de vestir, excepto de punto", "Vestuário, exceto de malha"),
    "63": (
        "Other made-up textiles",
        "Otros artículos textiles confeccionados",
        "Outros artefatos têxteis confeccionados",
    ),
    "64": ("Footwear", "Calzado", "Calçado"),
    "65": ("Headgear", "Sombreros y tocados", "Chapéus"),
    "66": ("Umbrellas, walking sticks", "Paraguas, bastones", "Guarda-chuvas, bengalas"),
    "67": ("Feathers, artificial flowers", "Plumas, flores artificiales", "Penas, flores artificiais"),
    "68": (
        "Stone, plaster and cement articles",
        "Manufacturas de piedra, yeso y cemento",
        "Obras de pedra, gesso e cimento",
    ),
    "69": ("Ceramic products", "Productos cerámicos", "Produtos cerâmicos"),
    "70": ("Glass and glassware", "Vidrio y sus manufacturas", "Vidro e suas obras"),
    "71": (
        "Precious stones, metals, jewellery",
        "Piedras y metales preciosos, joyería",
        "Pedras e metais preciosos, joalheria",
    ),
    "72": ("Iron and steel", "Fundición, hierro y acero", "Ferro fundido, ferro e aço"),
    "73": ("Articles of iron or steel", "Manufacturas de hierro o acero", "Obras de ferro ou aço"),
    "74": ("Copper", "Cobre y sus manufacturas", "Cobre e suas obras"),
    "75": ("Nickel", "Níquel y sus manufacturas", "Níquel e suas obras"),
    "76": ("Aluminium", "Aluminio y sus manufacturas", "Alumínio e suas obras"),
    "78": ("Lead", "Plomo y sus manufacturas", "Chumbo e suas obras"),
    "79": ("Zinc", "Cinc y sus manufacturas", "Zinco e suas obras"),
    "80": ("Tin", "Estaño y sus manufacturas", "Estanho e suas obras"),
    "81": ("Other base metals", "Los demás metales comunes", "Outros metais comuns"),
    "82": ("Tools and cutlery", "Herramientas y cuchillería", "Ferramentas e cutelaria"),
    "83": (
        "Miscellaneous articles of base metal",
        "Manufacturas diversas de metal común",
        "Obras diversas de metais comuns",
    ),
    "84": (
        "Machinery and mechanical appliances",
        "Máquinas y aparatos mecánicos",
        "Máquinas e aparelhos mecânicos",
    ),
    "85": (
        "Electrical machinery and electronics",
        "Máquinas y aparatos eléctricos, electrónica",
        "Máquinas e aparelhos elétricos, eletrônicos",
    ),
    "86": ("Railway equipment", "Material ferroviario", "Material ferroviário"),
    "87": ("Vehicles and parts", "Vehículos y sus partes", "Veículos e suas partes"),
    "88": ("Aircraft and spacecraft", "Aeronaves y vehículos espaciales", "Aeronaves e veículos espaciais"),
    "89": ("Ships and boats", "Barcos y demás artefactos flotantes", "Embarcações"),
    "90": (
        "Optical, medical and measuring instruments",
        "Instrumentos de óptica, medicina y medida",
        "Instrumentos de óptica, medicina e medida",
    ),
    "91": ("Clocks and watches", "Relojería", "Relojoaria"),
    "92": ("Musical instruments", "Instrumentos musicales", "Instrumentos musicais"),
    "93": ("Arms and ammunition", "Armas y municiones", "Armas e munições"),
    "94": ("Furniture, bedding, lighting", "Muebles, colchones, iluminación", "Móveis, colchões, iluminação"),
    "95": (
        "Toys, games and sports equipment",
        "Juguetes, juegos y artículos deportivos",
        "Brinquedos, jogos e artigos esportivos",
    ),
    "96": ("Miscellaneous manufactured articles", "Manufacturas diversas", "Obras diversas"),
    "97": ("Works of art and antiques", "Objetos de arte y antigüedades", "Objetos de arte e antiguidades"),
}
_COLUMN = {"en": 0, "es": 1, "pt": 2}


@dataclass(frozen=True, slots=True)
class HsChapter:
    code: str
    name: str


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().strip()


def chapter_name(code: str, language: str) -> str:
    names = CHAPTERS.get(code[:2])
    return names[_COLUMN.get(language, 0)] if names else ""


def search_chapters(query: str, language: str, *, limit: int = 12) -> list[HsChapter]:
    """Chapters whose code starts with the query's digits, or whose name (in any of the three
    languages) contains every word of the query. The names come in `language`."""
    text = _fold(query)
    if not text:
        return []
    digits = "".join(ch for ch in text if ch.isdigit())
    words = [w for w in text.replace(",", " ").split() if not w.isdigit()]
    found = []
    for code, names in CHAPTERS.items():
        if digits and not words:
            hit = code.startswith(digits[:2])
        else:
            folded = " ".join(_fold(n) for n in names)
            hit = all(word in folded for word in words)
        if hit:
            found.append(HsChapter(code, names[_COLUMN.get(language, 0)]))
    return found[:limit]
