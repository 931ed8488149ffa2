"""Demo merchants and products: Sleep & home wellness and clothing & footwear (data only)."""

from __future__ import annotations

from .base import AUTO, LMN, NOT, DemoMerchant, P

MERCHANTS: tuple[DemoMerchant, ...] = (
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
)
