"""The Flex Shop demo catalog: categories, merchants and products (data only).

Merchants are the brands the product article names; every product name,
description and price here is made up for this project. GTINs come from the
GS1 restricted-circulation range (prefix 20), so none belongs to a real item,
and each carries a valid check digit.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Eligibility, MerchantStatus
from .validators import gtin_check_digit

AUTO = Eligibility.AUTO_SUBSTANTIATION
LMN = Eligibility.LMN_REQUIRED
NOT = Eligibility.NOT_ELIGIBLE

# (slug, name, description), in the order the shop lists them.
CATEGORIES: tuple[tuple[str, str, str], ...] = (
    (
        "fitness-exercise",
        "Fitness & exercise",
        "Home gym equipment, training apps and studio memberships that may support a treatment plan.",
    ),
    (
        "nutrition-supplements",
        "Nutrition & supplements",
        "Over-the-counter essentials, supplements and nutrition programs.",
    ),
    (
        "sleep-home-wellness",
        "Sleep & home wellness",
        "Sleep systems, wearables and devices for rest, stress and breathing.",
    ),
    (
        "clothing-footwear",
        "Clothing & footwear",
        "Posture wear, supportive footwear, insoles and protective headwear.",
    ),
    (
        "mom-baby-child",
        "Mom, baby & child",
        "Lactation and postpartum supplies, gentle baby care and smart nursery gear.",
    ),
    (
        "skin-sun-care",
        "Skin & sun care",
        "Broad-spectrum sunscreens SPF 30 and up, and skin treatments.",
    ),
    (
        "recovery-pain-relief",
        "Recovery & pain relief",
        "Percussive therapy, compression, first aid and pain relief.",
    ),
)


@dataclass(frozen=True)
class DemoProduct:
    name: str
    category: str
    price_cents: int
    eligibility: str
    description: str
    # Sequence number for a GTIN-13 in the restricted range; 0 for services and memberships.
    gtin_seq: int = 0


@dataclass(frozen=True)
class DemoMerchant:
    name: str
    description: str
    products: tuple[DemoProduct, ...]
    featured: bool = False
    status: str = MerchantStatus.ACTIVE


def demo_gtin(seq: int) -> str:
    """A GTIN-13 beginning 20 (GS1 restricted circulation) with a valid check digit."""
    body = f"20{seq:010d}"
    return body + str(gtin_check_digit(body))


P = DemoProduct
MERCHANTS: tuple[DemoMerchant, ...] = (
    # Fitness & exercise
    DemoMerchant(
        "iFit",
        "Trainer-led workouts that connect to the treadmill, bike or rower you already own.",
        (
            P(
                "iFit Connect Coaching Hub",
                "fitness-exercise",
                19900,
                LMN,
                "A small device that attaches to compatible cardio equipment and adjusts speed and incline to follow a trainer-led session.",
                1001,
            ),
            P(
                "iFit Train Membership, 12 months",
                "fitness-exercise",
                39600,
                LMN,
                "A year of on-demand and live classes with progress tracking across walking, running, cycling and strength.",
            ),
            P(
                "iFit Chest Heart Rate Monitor",
                "fitness-exercise",
                7999,
                LMN,
                "A chest strap that streams heart rate to your sessions so the intensity stays in the zone your plan calls for.",
                1002,
            ),
        ),
    ),
    DemoMerchant(
        "PowerBlock",
        "Compact adjustable dumbbells that replace a rack of weights at home.",
        (
            P(
                "PowerBlock Pro 50 Adjustable Dumbbells",
                "fitness-exercise",
                54900,
                LMN,
                "A pair of dumbbells adjustable from 5 to 50 lb in 2.5 lb steps with a quick selector pin.",
                1101,
            ),
            P(
                "PowerBlock Elite Stage 1 Set (5–50 lb)",
                "fitness-exercise",
                45900,
                LMN,
                "An expandable set for progressive strength training in a small space.",
                1102,
            ),
            P(
                "PowerBlock Adjustable Sport Bench",
                "fitness-exercise",
                22900,
                LMN,
                "A flat-to-incline bench sized for home workouts with the PowerBlock sets.",
                1103,
            ),
        ),
        featured=True,
    ),
    DemoMerchant(
        "Tempo",
        "An AI-powered personal trainer on your phone that counts reps and corrects form.",
        (
            P(
                "Tempo Move Home Gym",
                "fitness-exercise",
                49500,
                LMN,
                "A compact weight cabinet and phone dock with 3D form feedback during every set.",
                1201,
            ),
            P(
                "Tempo Fit Membership, 12 months",
                "fitness-exercise",
                46800,
                LMN,
                "Personalised strength and conditioning plans that adapt to your progress.",
            ),
            P(
                "Tempo Workout Mat",
                "fitness-exercise",
                4900,
                NOT,
                "A cushioned, non-slip mat for floor exercises.",
                1202,
            ),
        ),
    ),
    DemoMerchant(
        "YourReformer",
        "Studio-quality Pilates reformers built for the home.",
        (
            P(
                "YourReformer Home Pilates Reformer",
                "fitness-exercise",
                299500,
                LMN,
                "A full-size reformer with adjustable spring tension for low-impact strength and mobility work.",
                1301,
            ),
            P(
                "YourReformer Jump Board",
                "fitness-exercise",
                34900,
                LMN,
                "A padded board that adds low-impact cardio to reformer sessions.",
                1302,
            ),
            P(
                "YourReformer Sitting Box & Platform",
                "fitness-exercise",
                27900,
                LMN,
                "Extends the reformer for seated, prone and balance exercises.",
                1303,
            ),
        ),
    ),
    DemoMerchant(
        "FitBod",
        "A workout app that builds a customised training program from your history and equipment.",
        (
            P(
                "Fitbod Annual Plan",
                "fitness-exercise",
                7999,
                LMN,
                "A year of personalised strength programs that balance muscle recovery between sessions.",
            ),
            P(
                "Fitbod Lifetime Access",
                "fitness-exercise",
                35999,
                LMN,
                "One purchase for ongoing access to adaptive training programs.",
            ),
        ),
    ),
    DemoMerchant(
        "Alo Wellness Club",
        "A fitness studio experience with yoga, Pilates and meditation classes, in person and online.",
        (
            P(
                "Alo Wellness Club Membership, 12 months",
                "fitness-exercise",
                29900,
                LMN,
                "Unlimited on-demand yoga, Pilates, mobility and meditation classes with guided programs.",
            ),
            P(
                "Alo Studio Class Pack, 10 classes",
                "fitness-exercise",
                25000,
                LMN,
                "Ten in-studio classes to use within six months.",
            ),
            P(
                "Alo Warrior Yoga Mat",
                "fitness-exercise",
                12800,
                NOT,
                "A grippy, cushioned mat for studio and home practice.",
                1401,
            ),
        ),
        featured=True,
    ),
    # Nutrition & supplements
    DemoMerchant(
        "CalmiGo",
        "A drug-free handheld exhaler designed to help calm anxiety with guided breathing.",
        (
            P(
                "CalmiGo Calming Breath Device",
                "nutrition-supplements",
                12900,
                LMN,
                "Guides slow, extended exhales with light, vibration and scent to help settle acute stress.",
                2001,
            ),
            P(
                "CalmiGo Scent Refill Pack",
                "nutrition-supplements",
                1999,
                LMN,
                "Three replacement scent pads for the CalmiGo device.",
                2002,
            ),
            P(
                "CalmiGo Kids Calming Companion",
                "nutrition-supplements",
                13900,
                LMN,
                "A child-sized version with a playful light guide for breathing practice.",
                2003,
            ),
        ),
    ),
    DemoMerchant(
        "Wellspring Meds",
        "Everyday over-the-counter medicine and first-aid supplies at wholesale prices.",
        (
            P(
                "Loratadine 10 mg Allergy Relief, 365 tablets",
                "nutrition-supplements",
                2199,
                AUTO,
                "Non-drowsy, 24-hour relief of seasonal allergy symptoms. Use as directed.",
                2101,
            ),
            P(
                "Ibuprofen 200 mg, 500 tablets",
                "recovery-pain-relief",
                1499,
                AUTO,
                "Temporary relief of minor aches, headache and fever. Use as directed.",
                2102,
            ),
            P(
                "Acetaminophen 500 mg, 500 caplets",
                "recovery-pain-relief",
                1349,
                AUTO,
                "Relief of minor aches and pains and fever reduction. Use as directed.",
                2103,
            ),
            P(
                "Family First Aid Kit, 160 pieces",
                "recovery-pain-relief",
                2499,
                AUTO,
                "Bandages, gauze, antiseptic wipes and tape in a compact case for home and car.",
                2104,
            ),
        ),
    ),
    DemoMerchant(
        "AND/life",
        "A wellness program that pairs guided workouts with meal planning and coaching.",
        (
            P(
                "AND/life Wellness Program, 12 months",
                "nutrition-supplements",
                17900,
                LMN,
                "Guided workouts, meal plans and habit tracking with check-ins from a coach.",
            ),
            P(
                "AND/life Coached Nutrition Plan, 3 months",
                "nutrition-supplements",
                9900,
                LMN,
                "A three-month plan with weekly nutrition coaching and grocery lists.",
            ),
        ),
    ),
    DemoMerchant(
        "Rootless",
        "Daily nutrient bites that support hormone balance and gut health.",
        (
            P(
                "Rootless Hormone Support Bites, 30 count",
                "nutrition-supplements",
                5900,
                LMN,
                "A daily chewable with vitamins, minerals and botanicals chosen to support hormonal health.",
                2201,
            ),
            P(
                "Rootless Gut Health Bites, 30 count",
                "nutrition-supplements",
                5900,
                LMN,
                "A daily chewable with fiber and probiotics to support digestion.",
                2202,
            ),
            P(
                "Rootless Daily Duo, 60 count",
                "nutrition-supplements",
                10800,
                LMN,
                "Both formulas together for a month.",
                2203,
            ),
        ),
    ),
    DemoMerchant(
        "Saltivate",
        "Sugar-free electrolyte powders that help you stay hydrated.",
        (
            P(
                "Saltivate Zero-Sugar Electrolyte Sticks, 30 count",
                "nutrition-supplements",
                3900,
                LMN,
                "Single-serve sodium, potassium and magnesium drink mix with no sugar.",
                2301,
            ),
            P(
                "Saltivate Electrolyte Tub, 60 servings",
                "nutrition-supplements",
                6400,
                LMN,
                "The same zero-sugar formula in a scoopable tub.",
                2302,
            ),
            P(
                "Saltivate Insulated Bottle, 24 oz",
                "nutrition-supplements",
                3200,
                NOT,
                "A double-wall stainless steel bottle that keeps drinks cold.",
                2303,
            ),
        ),
    ),
    # Sleep & home wellness
    DemoMerchant(
        "Ozlo Sleep",
        "Comfortable sleep earbuds that mask noise through the night.",
        (
            P(
                "Ozlo Sleepbuds",
                "sleep-home-wellness",
                29900,
                LMN,
                "Low-profile earbuds for side sleepers with noise-masking sounds and a sleep-detecting case.",
                3001,
            ),
            P(
                "Ozlo Ear Tip Kit",
                "sleep-home-wellness",
                1900,
                NOT,
                "Replacement silicone ear tips in four sizes.",
                3002,
            ),
        ),
    ),
    DemoMerchant(
        "SleepMe",
        "Temperature-controlled sleep systems that cool or warm your mattress.",
        (
            P(
                "SleepMe Dock Pro Sleep System, Queen",
                "sleep-home-wellness",
                124900,
                LMN,
                "A water-based mattress pad with a quiet control unit that holds your bed between 55 and 115 °F.",
                3101,
            ),
            P(
                "SleepMe ChiliPad Cube Sleep System",
                "sleep-home-wellness",
                69900,
                LMN,
                "An entry-level cooling and heating pad for one side of the bed.",
                3102,
            ),
            P(
                "SleepMe Dock Pro Replacement Pad, Queen",
                "sleep-home-wellness",
                42900,
                LMN,
                "A replacement hydronic pad for the Dock Pro system.",
                3103,
            ),
        ),
        featured=True,
    ),
    DemoMerchant(
        "BedJet",
        "Bed climate devices that blow cooled or heated air under the covers.",
        (
            P(
                "BedJet 3 Climate Comfort System",
                "sleep-home-wellness",
                44900,
                LMN,
                "Cools or warms the bed in minutes, with sleep-cycle programs and a remote.",
                3201,
            ),
            P(
                "BedJet Dual-Zone Cloud Sheet, Queen",
                "sleep-home-wellness",
                14900,
                LMN,
                "An air-channelling sheet that lets two BedJets run different temperatures on each side.",
                3202,
            ),
        ),
    ),
    DemoMerchant(
        "Pulsetto",
        "A wearable vagus nerve stimulator for stress and sleep.",
        (
            P(
                "Pulsetto Vagus Nerve Stimulator",
                "sleep-home-wellness",
                26900,
                LMN,
                "A neck-worn device with guided stimulation programs for stress, sleep and calm.",
                3301,
            ),
            P(
                "Pulsetto Conductive Gel, 2 pack",
                "sleep-home-wellness",
                1499,
                LMN,
                "Water-based gel for comfortable contact during sessions.",
                3302,
            ),
        ),
    ),
    DemoMerchant(
        "HostageTape",
        "Gentle mouth tape and nasal strips that encourage nasal breathing and reduce snoring.",
        (
            P(
                "HostageTape Mouth Tape, 90 strips",
                "sleep-home-wellness",
                2999,
                LMN,
                "Hypoallergenic tape that keeps the lips closed overnight to encourage nasal breathing.",
                3401,
            ),
            P(
                "HostageTape Nasal Strips, 30 count",
                "sleep-home-wellness",
                1999,
                AUTO,
                "Drug-free strips that open nasal passages for easier breathing at night.",
                3402,
            ),
        ),
    ),
    DemoMerchant(
        "Oura Ring",
        "A smart ring that tracks sleep, heart rate, temperature trends and activity.",
        (
            P(
                "Oura Ring 4",
                "sleep-home-wellness",
                34900,
                LMN,
                "A titanium ring with sensors for sleep stages, resting heart rate, heart rate variability and temperature trends.",
                3501,
            ),
            P(
                "Oura Membership, 12 months",
                "sleep-home-wellness",
                6999,
                LMN,
                "Detailed sleep, readiness and activity insights in the Oura app.",
            ),
            P(
                "Oura Ring Charging Dock",
                "sleep-home-wellness",
                4900,
                NOT,
                "A spare charging dock with a USB-C cable.",
                3502,
            ),
        ),
        featured=True,
    ),
    # Clothing & footwear
    DemoMerchant(
        "Forme",
        "Posture-correcting athletic wear with patented tension panels.",
        (
            P(
                "Forme Power Bra Posture Support",
                "clothing-footwear",
                9800,
                LMN,
                "A supportive sports bra with panels that gently draw the shoulders back.",
                4001,
            ),
            P(
                "Forme Men's Posture Shirt",
                "clothing-footwear",
                14800,
                LMN,
                "A fitted performance shirt that cues better upper-body alignment.",
                4002,
            ),
            P(
                "Forme Women's Posture Long Sleeve",
                "clothing-footwear",
                15800,
                LMN,
                "A long-sleeve top with the same posture support for cooler days.",
                4003,
            ),
        ),
        featured=True,
    ),
    DemoMerchant(
        "Oya",
        "Eco-conscious apparel built to wick away moisture and sweat.",
        (
            P(
                "Oya Moisture-Wicking Base Layer",
                "clothing-footwear",
                6800,
                LMN,
                "A breathable base layer that pulls sweat away from the skin.",
                4101,
            ),
            P(
                "Oya Sweat-Management Underwear, 3 pack",
                "clothing-footwear",
                5400,
                LMN,
                "Soft, odor-resistant underwear with absorbent, quick-dry panels.",
                4102,
            ),
            P("Oya Everyday Tee", "clothing-footwear", 3800, NOT, "An organic cotton T-shirt.", 4103),
        ),
    ),
    DemoMerchant(
        "Andiem",
        "Athletic footwear designed to help prevent ankle injuries.",
        (
            P(
                "Andiem Ankle-Support Trainer",
                "clothing-footwear",
                16500,
                LMN,
                "A lightweight trainer with a stabilizing collar that limits ankle roll.",
                4201,
            ),
            P(
                "Andiem Stability Hiking Boot",
                "clothing-footwear",
                21900,
                LMN,
                "A waterproof hiking boot with lateral support for uneven trails.",
                4202,
            ),
        ),
    ),
    DemoMerchant(
        "FitMyFoot",
        "Personalised insoles and footwear made from photos of your feet.",
        (
            P(
                "FitMyFoot Custom Insoles",
                "clothing-footwear",
                9900,
                AUTO,
                "Arch-support insoles custom-fit from a phone scan, for everyday foot comfort.",
                4301,
            ),
            P(
                "FitMyFoot Custom Sandals",
                "clothing-footwear",
                12900,
                LMN,
                "Sandals with a footbed shaped to your scan.",
                4302,
            ),
        ),
    ),
    DemoMerchant(
        "Ribcap",
        "Fashionable protective headwear as an alternative to helmets.",
        (
            P(
                "Ribcap Protective Beanie",
                "clothing-footwear",
                12900,
                LMN,
                "A knit hat with impact-absorbing padding for people at risk of falls or seizures.",
                4401,
            ),
            P(
                "Ribcap Kids Protective Cap",
                "clothing-footwear",
                9900,
                LMN,
                "A soft, padded cap sized for children.",
                4402,
            ),
        ),
    ),
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

# A made-up applicant, so ops can try the review in the admin.
APPLICANT = DemoMerchant(
    "Northwind Balance Boards",
    "Wooden balance boards for ankle rehabilitation and stability training.",
    (),
    status=MerchantStatus.APPLIED,
)
