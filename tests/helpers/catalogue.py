"""A generated product catalogue: one page per product, neighbours nearly identical.

Each page names its product code (QX0001...), SKU and model number; neighbouring pages
share the template, the product family and the material, and name each other's codes
("Related products"), so only the identifiers tell them apart. Used by the identifier
test (tests/core/index/test_identifiers.py) and bench/fusion_scifact.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FAMILIES = ("Trail lamp", "Camp stove", "Water filter", "Dry bag", "Tent peg set")
MATERIALS = ("anodised aluminium", "stainless steel", "recycled nylon")


@dataclass(frozen=True)
class Product:
    index: int
    code: str  # product code, e.g. QX0005
    sku: str  # e.g. TRA-4435-C
    model: str  # model number, e.g. TR-225
    name: str
    material: str
    weight_kg: float
    warranty_years: int
    ships_days: int

    @property
    def file_name(self) -> str:
        return f"{self.code.lower()}.md"


def products(count: int = 40) -> list[Product]:
    out = []
    for i in range(1, count + 1):
        family = FAMILIES[(i - 1) // 8 % len(FAMILIES)]
        initials = "".join(w[0] for w in family.split()).upper()
        out.append(
            Product(
                index=i,
                code=f"QX{i:04d}",
                sku=f"{family[:3].upper()}-{4400 + 7 * i}-{'ABC'[i % 3]}",
                model=f"{initials}-{100 + 25 * i}",
                name=family,
                material=MATERIALS[(i - 1) // 4 % len(MATERIALS)],
                weight_kg=round(0.35 + 0.05 * i, 2),
                warranty_years=2 + i % 3,
                ships_days=1 + i % 4,
            )
        )
    return out


def page(product: Product, catalogue: list[Product]) -> str:
    """The product's page as Markdown; it names its neighbours' codes too."""
    related = [p.code for p in catalogue if abs(p.index - product.index) == 1]
    return (
        f"# {product.name} {product.code}\n\n"
        f"Product code {product.code}. SKU {product.sku}. Model number {product.model}.\n\n"
        f"The {product.name.lower()} {product.code} weighs {product.weight_kg} kg and is made "
        f"of {product.material}. It packs small and suits long trips.\n\n"
        f"Related products: {', '.join(related)}.\n\n"
        f"## Delivery and warranty\n\n"
        f"Ships in {product.ships_days} working days. Warranty: "
        f"{product.warranty_years} years.\n"
    )


def write_catalogue(folder: Path, count: int = 40) -> list[Product]:
    """Write one Markdown page per product into `folder`; return the products."""
    folder.mkdir(parents=True, exist_ok=True)
    catalogue = products(count)
    for product in catalogue:
        (folder / product.file_name).write_text(page(product, catalogue), encoding="utf-8")
    return catalogue


def identifier_questions(catalogue: list[Product]) -> list[tuple[str, str]]:
    """(question, file name of the page that answers it): codes, SKUs, model numbers."""
    out: list[tuple[str, str]] = []
    for product in catalogue[4::6]:  # QX0005 first
        out += [
            (f"What does product code {product.code} weigh?", product.file_name),
            (f"How long is the warranty on SKU {product.sku}?", product.file_name),
            (f"What is model {product.model} made of?", product.file_name),
            (f"How fast does {product.code} ship?", product.file_name),
        ]
    return out
