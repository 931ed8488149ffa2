"""Demo merchants and products: Mom, baby & child, skin & sun care, and recovery & pain relief (data only)."""

from __future__ import annotations

from .base import AUTO, LMN, NOT, DemoMerchant, P

MERCHANTS: tuple[DemoMerchant, ...] = (
    # Mom, baby & child
    DemoMerchant(
        "TubbyTodd",
        "Gentle body care for babies with sensitive skin.",
        (
            P(
                "TubbyTodd All Over Ointment, 8 oz",
                "mom-baby-child",
                2800,
                AUTO,
                "A fragrance-free skin protectant for dry, chafed or eczema-prone skin.",
                5001,
            ),
            P("TubbyTodd Everyday Wash, 12 oz", "mom-baby-child", 1800, NOT, "A tear-free hair and body wash.", 5002),
            P(
                "TubbyTodd Bath Time Bundle",
                "mom-baby-child",
                4400,
                NOT,
                "Wash, lotion and a soft washcloth in a gift box.",
                5003,
            ),
        ),
    ),
    DemoMerchant(
        "Kindred Bravely",
        "Nursing bras, maternity clothing and postpartum essentials.",
        (
            P(
                "Kindred Bravely Hands-Free Pumping Bra",
                "mom-baby-child",
                5400,
                AUTO,
                "Holds breast pump flanges in place so both hands stay free while pumping.",
                5101,
            ),
            P(
                "Kindred Bravely Perineal Cooling Pads, 24 count",
                "mom-baby-child",
                1600,
                AUTO,
                "Soothing witch hazel pads for postpartum recovery.",
                5102,
            ),
            P(
                "Kindred Bravely Postpartum Recovery Leggings",
                "mom-baby-child",
                6900,
                LMN,
                "High-waisted leggings with graduated abdominal compression.",
                5103,
            ),
            P(
                "Kindred Bravely Maternity Lounge Dress",
                "mom-baby-child",
                5900,
                NOT,
                "A soft, stretchy dress for pregnancy and nursing.",
                5104,
            ),
        ),
        featured=True,
    ),
    DemoMerchant(
        "Cradlewise",
        "An all-in-one smart crib and baby monitor.",
        (
            P(
                "Cradlewise Smart Crib",
                "mom-baby-child",
                199900,
                LMN,
                "A bassinet-to-crib that responds to stirring with gentle bounce and includes a built-in monitor.",
                5201,
            ),
            P(
                "Cradlewise Organic Crib Sheet",
                "mom-baby-child",
                4900,
                NOT,
                "A fitted organic cotton sheet for the Cradlewise mattress.",
                5202,
            ),
        ),
    ),
    DemoMerchant(
        "Milkify",
        "A breast milk freeze-drying service that turns frozen milk into shelf-stable powder.",
        (
            P(
                "Milkify Freeze-Drying Service, up to 100 oz",
                "mom-baby-child",
                29500,
                LMN,
                "Ship frozen milk in a prepaid cooler; it comes back as powder in sealed pouches.",
            ),
            P(
                "Milkify Breast Milk Storage Bags, 100 count",
                "mom-baby-child",
                1699,
                AUTO,
                "Pre-sterilized, leak-proof bags for freezing and storing breast milk.",
                5301,
            ),
        ),
    ),
    DemoMerchant(
        "Every Mother",
        "Core and pelvic floor exercise programs for pregnancy and after.",
        (
            P(
                "Every Mother Core & Pelvic Floor Program, 12 months",
                "mom-baby-child",
                19900,
                LMN,
                "Short daily sessions that rebuild core and pelvic floor strength, including for diastasis recti.",
            ),
            P(
                "Every Mother Postpartum Restore, 3 months",
                "mom-baby-child",
                7900,
                LMN,
                "A guided twelve-week program for the first months after birth.",
            ),
        ),
    ),
    # Skin & sun care
    DemoMerchant(
        "Shiseido",
        "Skin care and sun care from Japan.",
        (
            P(
                "Shiseido Ultimate Sun Protector Lotion SPF 50+",
                "skin-sun-care",
                4900,
                AUTO,
                "A broad-spectrum, water-resistant sunscreen lotion for face and body.",
                6001,
            ),
            P(
                "Shiseido Clear Sunscreen Stick SPF 50+",
                "skin-sun-care",
                3500,
                AUTO,
                "A transparent broad-spectrum stick for quick reapplication.",
                6002,
            ),
            P(
                "Shiseido Benefiance Smoothing Cream",
                "skin-sun-care",
                7600,
                NOT,
                "A rich moisturizer for the face.",
                6003,
            ),
        ),
        featured=True,
    ),
    DemoMerchant(
        "Dermstore",
        "A curated skin care retailer with dermatologist-recommended brands.",
        (
            P(
                "Dermstore Mineral Sunscreen SPF 30",
                "skin-sun-care",
                3200,
                AUTO,
                "A zinc oxide broad-spectrum sunscreen for sensitive skin.",
                6101,
            ),
            P(
                "Dermstore Sheer Daily Sunscreen SPF 40",
                "skin-sun-care",
                3800,
                AUTO,
                "A lightweight broad-spectrum sunscreen that wears well under makeup.",
                6102,
            ),
            P(
                "Dermstore Acne Spot Treatment, 2% Salicylic Acid",
                "skin-sun-care",
                2200,
                AUTO,
                "An over-the-counter treatment that helps clear blemishes.",
                6103,
            ),
            P(
                "Dermstore Hydrating Face Moisturizer",
                "skin-sun-care",
                4200,
                NOT,
                "A fragrance-free daily moisturizer.",
                6104,
            ),
        ),
    ),
    DemoMerchant(
        "SunShield+",
        "Everyday and sport sunscreens with SPF 30 and up.",
        (
            P(
                "SunShield+ Everyday Sunscreen SPF 30",
                "skin-sun-care",
                1800,
                AUTO,
                "A broad-spectrum daily lotion that absorbs quickly.",
                6201,
            ),
            P(
                "SunShield+ Sport Sunscreen SPF 50",
                "skin-sun-care",
                2200,
                AUTO,
                "A sweat- and water-resistant (80 minutes) broad-spectrum lotion.",
                6202,
            ),
            P(
                "SunShield+ Lip Balm SPF 30",
                "skin-sun-care",
                800,
                AUTO,
                "A broad-spectrum lip balm with shea butter.",
                6203,
            ),
            P("SunShield+ UPF 50 Sun Hat", "skin-sun-care", 3900, NOT, "A wide-brim packable hat.", 6204),
        ),
    ),
    # Recovery & pain relief
    DemoMerchant(
        "Therabody",
        "Percussive therapy, compression and recovery technology.",
        (
            P(
                "Theragun Pro Percussive Therapy Device",
                "recovery-pain-relief",
                59900,
                LMN,
                "A professional-grade percussive massager with adjustable arm and speed range for deep muscle treatment.",
                7001,
            ),
            P(
                "Theragun Mini",
                "recovery-pain-relief",
                19900,
                LMN,
                "A pocket-sized percussive massager for targeted relief on the go.",
                7002,
            ),
            P(
                "RecoveryAir JetBoots Compression System",
                "recovery-pain-relief",
                79900,
                LMN,
                "Wireless pneumatic compression boots that help circulation and recovery in the legs.",
                7003,
            ),
            P(
                "Wave Roller Vibrating Foam Roller",
                "recovery-pain-relief",
                14900,
                LMN,
                "A foam roller with five vibration settings for muscle tension.",
                7004,
            ),
        ),
        featured=True,
    ),
)
