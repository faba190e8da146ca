"""Write data/geo/supply.csv and data/geo/demand.csv from the sourced figures below.

Run through ``make data`` (or ``python scripts/make_supply_demand.py data/geo``). Every number
here is a published figure (or the share of one); each carries its source, and the rules that
turn them into rows are documented in ``data/geo/SOURCES.md`` ("Supply by origin and year",
"Demand by market and year").

Supply. The UNODC Afghanistan Opium Surveys give the national potential opium production of
each year and, in their summaries, the share of the regions in cultivation (or production).
Each region is one origin node placed on its main growing province's capital. A year's
national total is split over the regions by the published shares (production shares where
published, else cultivation shares: equal yields assumed). Where the sources at hand give
only some regions, the rest of the total is split over the remaining regions in the
proportions of the nearest year with a published split of them (``imputed`` in the row's
source); where no regional split of a year was found at all, the nearest year's shares are
used (also marked ``imputed``). Tonnes are rounded with the largest-remainder method so that
each year sums exactly to the survey total.

Demand. Each market is a published estimate of high-risk opioid users (or a count the
conversion rule turns into one), in thousands; national figures are placed on the capital or
main city, or split over several cities by their GeoNames population.
"""

from __future__ import annotations

import csv
import sys
from fractions import Fraction
from pathlib import Path

# ---------------------------------------------------------------------------------- supply
# National potential opium production (tonnes) and where it is published.
NATIONAL: dict[int, tuple[int, str]] = {
    2018: (6400, "UNODC and Ministry of Counter Narcotics, Afghanistan Opium Survey 2018: "
                 "Cultivation and Production, 19 Nov 2018 (6,400 t), as reported by RFE/RL, "
                 "19 Nov 2018, https://www.rferl.org/a/29609545.html"),
    2019: (6400, "UNODC, World Drug Report 2020, 25 Jun 2020 (2019 production the same as "
                 "2018: 6,400 t; no 2019 survey report was released), as reported by "
                 "Afghanistan Analysts Network, 'New World Drug Report: Opium production in "
                 "Afghanistan remained the same in 2019', 2020, https://www.afghanistan-"
                 "analysts.org/en/reports/economy-development-environment/new-world-drug-"
                 "report-opium-production-in-afghanistan-remained-the-same-in-2019/"),
    2020: (6300, "NSIA and UNODC, Afghanistan Opium Survey 2020: Cultivation and Production "
                 "(Executive Summary), Apr 2021 (6,300 t), as reported by KabulNow, May 2021, "
                 "https://kabulnow.af/2021/05/afghanistan-produced-6300-tons-of-poppies/"),
    2021: (6800, "UNODC, Drug situation in Afghanistan 2021: latest findings and emerging "
                 "threats, 16 Nov 2021 (6,800 t), as reported by RFE/RL Gandhara, "
                 "https://gandhara.rferl.org/a/afghanistan-opium-production-rising/"
                 "31565797.html; UNODC, Afghanistan Opium Survey 2021: Cultivation and "
                 "Production, Mar 2022"),
    2022: (6200, "UNODC, Afghanistan opium cultivation in 2023 (research brief), 5 Nov 2023 "
                 "(6,200 t in 2022), as reported by KUNA, 5 Nov 2023, https://menafn.com/"
                 "1107374986/Afghanistan-Opium-Cultivation-Declines-95-Pct-Following-Drug-Ban"),
    2023: (333, "UNODC, Afghanistan opium cultivation in 2023 (research brief), 5 Nov 2023 "
                "(333 t), as reported by KUNA, 5 Nov 2023, https://menafn.com/1107374986/"
                "Afghanistan-Opium-Cultivation-Declines-95-Pct-Following-Drug-Ban"),
    2024: (433, "UNODC, press release 'Afghanistan: opium production remains 93 per cent below "
                "pre-drug ban levels', 27 Nov 2024 (433 t), https://unodc.org/unodc/en/press/"
                "releases/2024/November/afghanistan_-opium-production-remains-93-per-cent-"
                "below-pre-drug-ban-levels--says-unodc.html"),
    2025: (296, "UNODC, Afghanistan Opium Survey 2025, Nov 2025 (10,200 ha; 296 t), as listed "
                "by UN iLibrary, https://www.un-ilibrary.org/content/theme/unp-public-health, "
                "and reported by Devdiscourse, https://www.devdiscourse.com/article/headlines/"
                "3686749-afghanistans-opium-poppy-dilemma-the-shrinking-fields-and-rising-"
                "synthetic-threat"),
}

# One origin node per UNODC survey region, on the capital of its main growing province.
ORIGIN = {
    "south": "p_helmand",        # Southern (to 2019) / South-western (from 2020) region
    "west": "p_farah",           # Western region
    "north": "p_mazar_i_sharif",  # Northern region (Balkh)
    "northeast": "p_badakhshan",  # North-eastern region
    "east": "p_jalalabad",       # Eastern region (Nangarhar)
    "central": "p_kabul",        # Central region (and, from 2020, the small Southern region)
}

# Published regional splits (percent). "kind" says whether the shares are of production or of
# cultivation (production is then split by cultivation: equal yields assumed).
SPLIT_2017 = {"south": 57, "north": 16, "west": 13, "east": 9, "northeast": 5}
SRC_2017 = ("UNODC and MCN, Afghanistan Opium Survey 2017: Cultivation and Production, Nov 2017 "
            "(production: Southern 57%, Northern 16%, Western 13%, Eastern 9%; the rest, 5%, "
            "North-eastern and Central together), as summarised by IDPC, "
            "https://idpc.net/publications/2018/06/afghanistan-opium-survey-2017")
SPLIT_2021 = {"south": 79, "west": 10, "north": 6, "east": 2, "northeast": 2,
              "central": Fraction(8, 10)}
SRC_2021 = ("UNODC, Afghanistan Opium Survey 2021: Cultivation and Production, Mar 2022 "
            "(cultivation: South-western 79%, Western 10%, Northern 6%, Eastern 2%, "
            "North-eastern 2%, Southern and Central together 0.8%), https://m.reliefweb.int/"
            "report/3829916/afghanistan/afghanistan-opium-survey-2021-cultivation-and-production")
SRC_2018 = ("Afghan Minister of Counter Narcotics Salamat Azimi at the launch of the Afghanistan "
            "Opium Survey 2018, 19 Nov 2018 (cultivation: Southern 69%, Western 12%), as "
            "reported by EFE/IANS, Weekly Voice, https://www.weeklyvoice.com/opium-cultivation-"
            "in-afghanistan-falls-for-first-time-in-3-years/")
SRC_2023_24 = ("Associated Press, 'Afghan opium cultivation bounces and shifts two years after "
               "ban, UN says', 6 Nov 2024, reporting UNODC, Afghanistan Opium Survey 2024 "
               "(north-eastern region 7,563 ha in 2024, +381% on 2023, four times the area of "
               "the south-west, the second producer; the south-west had about half of 2023 "
               "production), https://news.nandigramtimes.com/afghan-opium-cultivation-bounces-"
               "and-shifts-2-years-after-ban-un-says-1302748.html")
SRC_2024_PR = ("UNODC, press release, 27 Nov 2024 (two thirds of 2024 production in the "
               "north-east)")


def _fill(known: dict[str, Fraction], ref: dict[str, Fraction | int]) -> dict[str, Fraction]:
    """Known shares (of 1) plus the rest split over the other regions in ``ref``'s proportions."""
    rest = 1 - sum(known.values())
    others = {r: Fraction(v) for r, v in ref.items() if r not in known}
    tot = sum(others.values())
    out = dict(known)
    for r, v in others.items():
        out[r] = rest * v / tot
    return out


def _norm(shares: dict[str, Fraction | int]) -> dict[str, Fraction]:
    tot = sum(Fraction(v) for v in shares.values())
    return {r: Fraction(v) / tot for r, v in shares.items()}


def regional_shares() -> dict[int, tuple[dict[str, Fraction], str]]:
    """Each year's regional shares of production and the rule that made them."""
    s2018 = _fill({"south": Fraction(69, 100), "west": Fraction(12, 100)},
                  {"north": 16, "east": 9, "northeast": 5})
    rule_2018 = (f"regional shares: Southern 69% and Western 12% of cultivation ({SRC_2018}); "
                 f"the other 19% split over Northern, Eastern and North-eastern+Central in their "
                 f"2017 production proportions 16:9:5 ({SRC_2017}) - imputed; North-eastern and "
                 f"Central reported together, placed on Badakhshan")
    s2021 = _norm(SPLIT_2021)
    rule_2021 = (f"regional shares of cultivation ({SRC_2021}), normalised to 100%; production "
                 f"split by cultivation (equal yields assumed); Southern+Central placed on Kabul")
    ne23 = Fraction(7563, 100) / Fraction(481, 100) / 10800 * 100  # 2023 NE area / national
    s2023 = _fill({"south": Fraction(1, 2), "northeast": ne23}, SPLIT_2021)
    rule_2023 = (f"regional shares: South-western about 1/2 of production; North-eastern "
                 f"7,563 ha / 4.81 = 1,572 ha of 10,800 ha (14.6%) ({SRC_2023_24}); the rest "
                 f"split over Western, Northern, Eastern and Southern+Central in their 2021 "
                 f"proportions 10:6:2:0.8 ({SRC_2021}) - imputed")
    sw24 = Fraction(1, 3) * Fraction(7563, 4) / (12800 - 7563)
    s2024 = _fill({"northeast": Fraction(2, 3), "south": sw24}, SPLIT_2021)
    rule_2024 = (f"regional shares: North-eastern 2/3 of production ({SRC_2024_PR}); the other "
                 f"1/3 split by area between the South-western region (7,563/4 = 1,891 ha) and "
                 f"the rest of the country (12,800 - 7,563 - 1,891 = 3,346 ha) "
                 f"({SRC_2023_24}); the rest split over Western, Northern, Eastern and "
                 f"Southern+Central in their 2021 proportions 10:6:2:0.8 ({SRC_2021}) - imputed")
    return {
        2018: (s2018, rule_2018),
        2019: (s2018, "no regional split of 2019 found: 2018 regional shares applied - "
                      "imputed; " + rule_2018),
        2020: (s2021, "no regional split of 2020 found: 2021 regional shares applied - "
                      "imputed; " + rule_2021),
        2021: (s2021, rule_2021),
        2022: (s2021, "no regional split of 2022 found: 2021 regional shares applied - "
                      "imputed; " + rule_2021),
        2023: (s2023, rule_2023),
        2024: (s2024, rule_2024),
        2025: (s2024, "no regional split of 2025 found: 2024 regional shares applied - "
                      "imputed; " + rule_2024),
    }


def largest_remainder(total: int, shares: dict[str, Fraction]) -> dict[str, int]:
    """Integers proportional to ``shares`` that sum exactly to ``total``.

    >>> largest_remainder(10, {"a": Fraction(1, 3), "b": Fraction(2, 3)})
    {'a': 3, 'b': 7}
    """
    exact = {k: total * v for k, v in shares.items()}
    out = {k: int(x) for k, x in exact.items()}
    left = total - sum(out.values())
    for k in sorted(exact, key=lambda k: (-(exact[k] - out[k]), k))[:left]:
        out[k] += 1
    return out


LABEL = {"south": "Southern/South-western", "west": "Western", "north": "Northern",
         "northeast": "North-eastern", "east": "Eastern", "central": "Central and Southern"}


def supply_rows() -> list[dict[str, str]]:
    rows = []
    for year, (shares, rule) in regional_shares().items():
        total, src = NATIONAL[year]
        tonnes = largest_remainder(total, shares)
        for region, t in tonnes.items():
            if t <= 0:
                continue
            pct = float(shares[region] * 100)
            label = ("North-eastern and Central" if region == "northeast" and year < 2020
                     else LABEL[region])
            rows.append({
                "origin_id": ORIGIN[region], "year": str(year), "opium_t": str(t),
                "source": f"national total {total:,} t: {src}; {label} region share "
                          f"{pct:.1f}%: {rule}",
            })
    return sorted(rows, key=lambda r: (r["origin_id"], r["year"]))


# ---------------------------------------------------------------------------------- demand
# GeoNames (CC BY 4.0) city populations, for splitting a national figure over market cities.
GEONAMES_POP = {
    "p_moscow": (524901, 10381222), "p_st_petersburg": (498817, 5351935),
    "p_novosibirsk": (1496747, 1612833), "p_yekaterinburg": (1486209, 1495066),
    "p_samara": (499099, 1163399), "p_rome": (3169070, 2318895), "p_milan": (3173435, 1371498),
}

SRC_UNODC_CA = ("UNODC, Accessibility of HIV Prevention, Treatment and Care Services for People "
                "who use Drugs and Incarcerated People in Azerbaijan, Kazakhstan, Kyrgyzstan, "
                "Tajikistan, Turkmenistan and Uzbekistan, Ashgabat, 2010, estimated number of "
                "people who inject drugs, as tabulated in Drug and Alcohol Dependence 132 "
                "Suppl 1 (2013) S56-S60, Table 1, https://pmc.ncbi.nlm.nih.gov/articles/"
                "PMC3889168/")
SRC_RUS = ("UNODC, World Drug Report 2012, Jun 2012 (revised data for the Russian Federation: "
           "annual prevalence of heroin use 1.4% of the population aged 15-64), as quoted at "
           "https://www.drugpolicyfacts.org/node/2957; population aged 15-64: 94,921,361 "
           "(2024, UN data), population-pyramid.net, https://population-pyramid.net/fr/pp/"
           "f%C3%A9d%C3%A9ration-russe; city populations: GeoNames")
SRC_ITA = ("EMCDDA, Italy Country Drug Report 2019, Jun 2019 (high-risk opioid users 235,000, "
           "range 223,000-247,000; data relate to 2017), https://dokumen.tips/documents/"
           "italy-italy-italy-country-drug-report-2019-this-report-presents-the-top-level.html; "
           "city populations: GeoNames")

# market_id, year, national demand (thousand), figure, conversion, source, split group
DEMAND: list[tuple[str, int, float, str, str, str]] = [
    ("p_tehran", 2017, 2800 * 0.67,
     "about 2.8 million regular drug users, 67% of them opium users",
     "users_x_opiate_share",
     "Iran Drug Control Headquarters (spokesman Parviz Afshar, to ISNA), reported by AFP: "
     "'Iran drug addicts double in six years', The Daily Star (Beirut), 25 Jun 2017, "
     "http://www.dailystar.com.lb/News/Middle-East/2017/Jun-25/410830-iran-drug-addicts-"
     "double-in-six-years.ashx; Worldcrunch, 'Drug use doubles in Iran', 2017, "
     "https://worldcrunch.com/world-affairs/drug-use-doubles-in-iran-but-true-numbers-may-be-"
     "even-higher"),
    ("p_islamabad", 2013, 1180.0,
     "860,000 regular heroin users and 320,000 opium users (1.18 million regular opiate "
     "users aged 15-64)",
     "count",
     "UNODC, Ministry of Narcotics Control and Pakistan Bureau of Statistics, Drug Use in "
     "Pakistan 2013 (survey of 2012-13), 2013, as reported by Dawn, 'Over one million "
     "Pakistanis hooked on opiates: study', https://dawn.com/news/amp/1150281"),
    ("p_almaty", 2010, 186.0, "186,000 people who inject drugs (Kazakhstan)", "pwid_count",
     SRC_UNODC_CA),
    ("p_bishkek", 2010, 44.0, "44,000 people who inject drugs (Kyrgyzstan)", "pwid_count",
     SRC_UNODC_CA),
    ("p_dushanbe", 2010, 34.0, "34,000 people who inject drugs (Tajikistan)", "pwid_count",
     SRC_UNODC_CA),
    ("p_ashgabat", 2010, 11.148, "11,148 people who inject drugs (Turkmenistan)", "pwid_count",
     SRC_UNODC_CA),
    ("p_tashkent", 2010, 80.0, "80,000 people who inject drugs (Uzbekistan)", "pwid_count",
     SRC_UNODC_CA),
    ("RUS", 2010, 0.014 * 94921.361,
     "annual prevalence of heroin use 1.4% of the population aged 15-64 (Russian Federation)",
     "prevalence_x_population; city_population_split", SRC_RUS),
    ("p_ankara", 2015, 12.733,
     "12,733 high-risk opioid users (range 11,126-26,537) (Turkey)", "count",
     "EMCDDA, Turkey Country Drug Report 2017, Jun 2017 (data relate to 2015 or the most "
     "recent year), https://vdocument.in/download/turkey-country-drug-report-turkey-country-"
     "drug-report-2017-the-drug-problem-in"),
    ("p_tbilisi", 2016, 52.5, "52,500 people who inject drugs (Georgia)", "pwid_count",
     "Curatio International Foundation and Bemoni Public Union, Population Size Estimation "
     "of People who Inject Drugs in Georgia 2016, 2017, http://curatiofoundation.org/"
     "interview_bss2017/"),
    ("p_tbilisi", 2021, 49.7,
     "49,700 people who inject drugs aged 18-64 (95% CI 44,900-54,000) (Georgia)",
     "pwid_count",
     "Kamkamidze G. et al., Population size estimation of people who inject drugs in "
     "Georgia, INHSU, 2023, https://inhsu.org/resource/population-size-estimation-of-people-"
     "who-inject-drugs-in-georgia/"),
    ("p_baku", 2020, 60.25 * 0.62,
     "60,250 people who inject drugs (population size estimation 2020); opiates the main drug "
     "of 62% of them (Azerbaijan)",
     "users_x_opiate_share",
     "Integrated bio-behavioural surveillance among PWID in Azerbaijan (Republican AIDS Center "
     "survey, 2022), abstract 'Results of Integrated Bio-Behavioral surveillance among PWID in "
     "Azerbaijan', Lisbon Addictions 2024 (EUDA), 23 Oct 2024, https://www.lisbonaddictions.eu/"
     "lisbon-addictions-2024/presentations/results-i%CC%87ntegrated-bio-behavioral-"
     "surveillance-among-pwid-azerbaijan"),
    ("p_berlin", 2016, 166.294,
     "166,294 people with opioid addiction (164,794-167,794) (Germany)", "count",
     "Kraus L. et al., Estimation of the number of people with opioid addiction in Germany, "
     "Deutsches Arzteblatt International 116(9):137-143, 2019, doi:10.3238/arztebl.2019.0137, "
     "https://pmc.ncbi.nlm.nih.gov/articles/PMC6460011/"),
    ("ITA", 2017, 235.0, "235,000 high-risk opioid users (223,000-247,000) (Italy)",
     "count; city_population_split", SRC_ITA),
    ("p_paris", 2017, 100.0, "about 100,000 regular heroin users (France)", "count",
     "OFDT (Observatoire francais des drogues et des toxicomanies), report on opioids in "
     "France, Apr 2019, as reported by Le Journal international de medecine, 'Opioides : "
     "quelques donnees inquietantes mais sans commune mesure avec la situation americaine', "
     "18 Apr 2019, https://www.jim.fr/medecin/jimplus/chiffres/e-docs/opioides_quelques_"
     "donnees_inquietantes_mais_sans_commune_mesure_avec_la_situation_americaine_177225/"
     "document_jim_plus.phtml"),
    ("p_london", 2016, 324.84,
     "324,840 opiate and/or crack cocaine users in England, 2016-17 (revised method)",
     "ocu_count",
     "Office for Health Improvement and Disparities and UK Health Security Agency, Estimates "
     "of opiate and crack use in England: main points and methods, 24 Oct 2023, "
     "https://www.gov.uk/government/publications/opiate-and-crack-cocaine-use-prevalence-"
     "estimates/estimates-of-opiate-and-crack-use-in-england-main-points-and-methods"),
    ("p_london", 2019, 341.032,
     "341,032 opiate and/or crack cocaine users in England, 2019-20", "ocu_count",
     "Office for Health Improvement and Disparities and UK Health Security Agency, Estimates "
     "of opiate and crack use in England: main points and methods, 24 Oct 2023, "
     "https://www.gov.uk/government/publications/opiate-and-crack-cocaine-use-prevalence-"
     "estimates/estimates-of-opiate-and-crack-use-in-england-main-points-and-methods"),
    ("p_amsterdam", 2012, 14.0, "about 14,000 problematic opiate users (Netherlands)", "count",
     "Trimbos Institute and GGD Amsterdam, Number and characteristics of problematic opiate "
     "users in the Netherlands, as reported by NL Times, 19 Jan 2014, https://nltimes.nl/"
     "2014/01/19/decrease-problematic-heroin-users; the figure EMCDDA still reports in its "
     "Netherlands Country Drug Report 2019"),
    ("p_athens", 2016, 17.0, "17,000 opioid users (Greece)", "count",
     "Greek Documentation and Monitoring Centre for Drugs (EKTEPN), annual report on 2017 "
     "data, as reported by Kathimerini, 'Report sees addiction to cannabis up, heroin down', "
     "6 Jun 2019, http://www.ekathimerini.com/241324/article/ekathimerini/news/report-sees-"
     "addiction-to-cannabis-up-heroin-down"),
    ("p_athens", 2017, 14.5, "14,500 opioid users (Greece)", "count",
     "Greek Documentation and Monitoring Centre for Drugs (EKTEPN), annual report on 2017 "
     "data, as reported by Kathimerini, 'Report sees addiction to cannabis up, heroin down', "
     "6 Jun 2019, http://www.ekathimerini.com/241324/article/ekathimerini/news/report-sees-"
     "addiction-to-cannabis-up-heroin-down"),
    ("p_prague", 2016, 0.267 * 46.8,
     "problem opioid use 26.7% of 46,800 problem drug users (Czech Republic)",
     "users_x_opiate_share",
     "Charles University, review of problem opioid use in the Czech Republic, "
     "https://explorer.cuni.cz/publication/574304"),
    ("p_madrid", 2010, 38.5,
     "38,500 problematic heroin users (36,093-41,250) (Spain)", "count",
     "EMCDDA, Statistical Bulletin 2013, Table PDU-1 (iii), 2013 (treatment multiplier)"),
    ("p_vienna", 2011, 30.306,
     "30,306 problem (poly-)drug users including opiates (29,500-31,111) (Austria)", "count",
     "EMCDDA, Statistical Bulletin 2013, Table PDU-1 (iii), 2013 (capture-recapture)"),
    ("p_warsaw", 2009, 15.1,
     "10,400-19,800 problem opioid users, midpoint 15,100 (Poland)", "count",
     "Sieroslawski J., estimate of problem opioid users in Poland 2009 (benchmark method), "
     "2012, as reported in EMCDDA, Statistical Bulletin 2013"),
    ("p_vilnius", 2007, 5.458,
     "5,458 long-duration/regular opioid users (5,314-5,605) (Lithuania)", "count",
     "EMCDDA, Statistical Bulletin 2013, Table PDU-1 (iii), 2013 (capture-recapture)"),
    # Newer estimates for existing markets (issue 19, item 4).
    ("p_vienna", 2019, 34.0,
     "31,000-37,000 people with high-risk opioid use, midpoint 34,000 (Austria)", "count",
     "Gesundheit Osterreich (GOG), Bericht zur Drogensituation 2020 (reporting year 2019), "
     "Dec 2020, as reported by praevention.at, 'Drogensituation in Osterreich stabil', "
     "15 Feb 2021, https://www.praevention.at/news/news-detail/drogensituation-in-oesterreich-stabil"),
    ("p_vienna", 2021, 37.5,
     "35,000-40,000 people with high-risk opioid use, midpoint 37,500 (Austria)", "count",
     "Gesundheit Osterreich (GOG), Bericht zur Drogensituation 2022 (reporting year 2021), as "
     "reported by Bundesministerium fur Inneres, Offentliche Sicherheit 5-6/2023, "
     "'Drogenbericht Osterreich 2022', https://bmi.gv.at/magazin/2023_05_06/"
     "05_Drogenbericht_Oesterreich_2022.aspx"),
    ("p_almaty", 2019, 120.5,
     "about 120,500 people who inject drugs (Kazakhstan; estimate cited in 2019, its own "
     "reference year not stated)", "pwid_count",
     "Eurasian Harm Reduction Association, 'Criminalization costs: Kazakhstan' (data as of "
     "Jan-Feb 2019), https://harmreductioneurasia.org/criminalization-costs/kazakhstan/"),
    # Global sinks (issue 19): East and Southern Africa and India.
    ("p_mombasa", 2011, 30.0,
     "about 30,000 people who inject drugs (Kenya); heroin injected by 93% of them "
     "(Kurth et al. 2015)", "pwid_count",
     "NASCOP (H. Musyoki), An overview of programs for people who inject drugs, Nov 2012 "
     "(national size estimate 30,000, Needle and Zhao 2011), "
     "https://docplayer.net/amp/12508555-An-overview-of-programs-for-people-who-inject-drugs.html; "
     "Kurth A.E. et al., HIV prevalence, estimated incidence, and risk behaviors among people "
     "who inject drugs in Kenya, JAIDS 70(4), 1 Dec 2015, "
     "http://www.natap.org/2015/HIV/110315_02.htm"),
    ("p_dar_es_salaam", 2012, 25.0,
     "an estimated 25,000 heroin addicts (Tanzania)", "count",
     "Tanzania Minister for Health and Social Welfare Hussein Mwinyi, statement of 7 Sep 2012, "
     "as reposted on JamiiForums, 'Tanzania home to 25,000 heroin addicts', 8 Sep 2012, "
     "https://www.jamiiforums.com/threads/tanzania-home-to-25-000-heroin-addicts.320445/"),
    ("p_johannesburg", 2015, 110.0,
     "about 110,000 people using heroin (South Africa)", "count",
     "Scheibe A. et al., Journal of Illicit Economies and Development (2024), as reported by "
     "Spotlight, 'SA is facing a fast-escalating heroin crisis - and it's being misunderstood', "
     "Daily Maverick, 17 Apr 2024, https://www.dailymaverick.co.za/article/"
     "2024-04-17-sas-fast-escalating-heroin-crisis-is-being-misunderstood/"),
    ("p_johannesburg", 2020, 320.0,
     "215,000-425,000 people using heroin daily, midpoint 320,000 (South Africa)", "count",
     "Scheibe A. et al., Journal of Illicit Economies and Development (2024), as reported by "
     "Spotlight, 'SA is facing a fast-escalating heroin crisis - and it's being misunderstood', "
     "Daily Maverick, 17 Apr 2024, https://www.dailymaverick.co.za/article/"
     "2024-04-17-sas-fast-escalating-heroin-crisis-is-being-misunderstood/"),
    ("p_amritsar", 2015, 123.0,
     "more than 123,000 heroin-dependent people in Punjab (India), of about 230,000 "
     "opioid-dependent people", "count",
     "Society for Promotion of Youth and Masses and NDDTC, AIIMS, for the Ministry of Social "
     "Justice and Empowerment, Punjab Opioid Dependence Survey (PODS), 2015, "
     "https://vdocuments.mx/punjab-opioid-dependence-survey.html; as reported by SikhNet, "
     "'Punjab drugs', 15 Jan 2016, https://www.sikhnet.com/news/punjab-drugs"),
    # Balkan and Caucasus markets on the observed links (issue 19, link coverage).
    ("p_tirana", 2009, 4.75,
     "4,500-5,000 problem drug users in 2009, midpoint 4,750 (Albania; country experts' "
     "estimate); heroin the established drug of problem use", "count",
     "UNODC (J. Bell), Final Report: UNODC assessment of drug abuse treatment services in "
     "Albania, draft 16 Jul 2012 (citing EMCDDA 2012), https://www.scribd.com/document/"
     "210635615/UNODC-Assessment-of-Drug-Abuse-Treatment-Services-in-Albania"),
    ("p_tirana", 2015, 6.182,
     "6,182 problematic drug users (3,626-8,737), study of 2014-2015, more than 60% of them "
     "injecting; heroin the most used drug (Albania)", "count",
     "Eurasian Harm Reduction Network, Country profiles: Albania (population as of Jan 2016), "
     "http://harm-reduction.org/country-profiles/albania"),
    ("p_pristina", 2016, 5.819,
     "5,819 people who inject drugs (4,777-6,860), programmatic mapping of Feb-Apr 2016 "
     "(Kosovo)", "pwid_count",
     "National Institute of Public Health of Kosovo, Community Development Fund, Johns Hopkins "
     "University and University of Manitoba (corresponding author C.A. Comins), Programmatic "
     "Mapping to Estimate Size, Distribution, and Dynamics of Key Populations in Kosovo, JMIR "
     "Public Health and Surveillance 5(1):e11194, 2019, https://publichealth.jmir.org/2019/1/"
     "e11194"),
    ("p_yerevan", 2011, 30.0 * 2476 / 6544,
     "about 30,000 drug users (2011 monitoring, Armenia); opiates the drug of 2,476 of the "
     "6,544 registered drug users (37.8%, Jan 2018)", "users_x_opiate_share",
     "Armenia's chief narcologist Petros Semerjyan, to ARKA, as reported by News.Az, 'Number "
     "of drug addicts in Armenia growing every year by 8 percent', 27 Jun 2018, "
     "https://news.az/news/number-of-drug-addicts-in-armenia-growing-every-year-by-8-percent"),
]

SPLIT = {
    "RUS": ("p_moscow", "p_st_petersburg", "p_novosibirsk", "p_yekaterinburg", "p_samara"),
    "ITA": ("p_rome", "p_milan"),
}


def demand_rows() -> list[dict[str, str]]:
    rows = []
    for market, year, value, figure, conversion, source in DEMAND:
        targets = SPLIT.get(market, (market,))
        pops = {t: GEONAMES_POP[t][1] for t in targets} if len(targets) > 1 else {market: 1}
        tot = sum(pops.values())
        for t, pop in pops.items():
            share = pop / tot
            fig = figure
            src = source
            if len(targets) > 1:
                gid = GEONAMES_POP[t][0]
                fig = (f"{figure}: {value:,.1f} thousand nationally; this city's share "
                       f"{share:.1%} by population")
                src = (f"{source} (GeoNames {gid}: population {pop:,} of the "
                       f"{len(targets)} market cities' {tot:,})")
            rows.append({"market_id": t, "year": str(year),
                         "demand": f"{value * share:.3f}".rstrip("0").rstrip("."),
                         "figure": fig, "conversion": conversion, "source": src})
    return sorted(rows, key=lambda r: (r["market_id"], int(r["year"])))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    tmp.replace(path)


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else Path("data/geo")
    _write(out / "supply.csv", supply_rows())
    _write(out / "demand.csv", demand_rows())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
