"""What the language rules read: words and letters, and the languages that write each.

Owns: the data of classify/language.py. A word or a letter counts for every language listed with
it, so one that several languages share ("det": Swedish, Danish, Norwegian; `ö`: German, Swedish,
Turkish) raises them all alike and tells none of them apart; only what one language alone writes
decides between neighbours. Never decides anything itself.
"""

from __future__ import annotations

import re

# Frequent function words of the languages a developer reads, each with every language here
# that writes it, so that each list can be read on its own.
FUNCTION_WORDS: dict[str, frozenset[str]] = {
    lang: frozenset(words.split())
    for lang, words in {
        "en": "the and of to is are were with for this that from how why what when your you "
              "we our not can will be been has have it's its into using about which than should "
              "their there they or by an on at "
              # English words of developer titles, found in no other language here: a title of
              # jargon and these ("Postgres 16 MVCC internals") is English without a model
              "internals deep dive guide understanding building scaling testing explained lessons "
              "learned best practices tricks tutorial beginners getting started working "
              "writing running debugging handling patterns designing migrating announcing "
              "released faster better simple easy way ways things everything nothing inside "
              "behind under hood revisited semantics exactly works well done right wrong part "
              "deep-dive hands-on step-by-step notes thoughts lessons-learned "
              # link texts feeds put in place of a body (Hacker News: "Comments")
              "comments comment continue reading read more",
        "de": "der das und ist nicht mit für von zu auf ein eine einen dem den des sich auch wie "
              "wir ich oder bei aus nach wird werden sind über warum wenn kann mehr noch nur zum "
              "zur im vom dass er worden",
        "fr": "le les des est et une pour dans avec sur pas qui sont nous vous ce cette ces du au "
              "aux où pourquoi être avoir leur fait très se de la en un mon ma mes sans notre "
              "nos votre comment ou",
        "es": "el los las y se del al más pero sus su está cómo qué también cuando muy hay ya "
              "nuestro novedades de la en con para por un una es mi sin desde sobre",
        "pt": "os não uma dos nos nas em é são mas seu sua isso também muito ao já nosso você se "
              "novidades de para com por um meu minha do da sem sobre ou",
        "it": "gli di che è per sono della delle degli dei nel nella alla alle anche questo "
              "questa perché abbiamo siamo nostre nostri nostra sul sulla dalla se la con un una "
              "mi senza",
        "nl": "het een van niet met voor zijn op dat wordt naar ook bij maar hoe waarom wij "
              "onze is mijn zo je we wat er dit deze heeft hebben kunnen moet moeten worden werd "
              "nieuw nieuwe mogelijk de en over uit deel op",
        # not "a", "i", "do": English words as well, and English texts are most of a feed list
        "pl": "w z się nie jest że jak od po dla czy przez oraz są być na to za bez",
        "cs": "v z se na je to že pro jak proč jsme jsou být není který která které ale nebo "
              "když také tak jako po od při už by než již za bez",
        "hr": "u je se na da za su od kako što ili ali koji koja koje nije smo ste biti kao sa "
              "iz prema zašto kada ovo može već samo to po bez",
        "tr": "ve bir bu için ile nasıl neden daha çok olarak gibi olan ne neler nedir var yok",
        "sv": "och att det som för med är på inte av till har jag vi hur varför om den ett en "
              "kan eller från var blir ut upp igen mer genom göra gör utvecklare säkerhet ska "
              "därför bättre ny nya vecka veckans",
        "da": "og at det som for med er på ikke af til har jeg vi hvordan hvorfor om den et en "
              "kan eller fra hvad efter også nu mig dig sig vores meget blev uden noget nogle "
              "sådan mellem lille tak ny nye nyt kære var bliver ud op jer hinanden endnu igen "
              "gennem bruge bruger bruges mere gøre gør sige lave lavet hjælp hjælpe udvikler "
              "udviklere udvikling sikkerhed hvornår derfor fik bedre uge ugens",
        "no": "og å det som for med er på ikke av til har jeg vi hvordan hvorfor om den et en "
              "kan eller fra hva etter også nå meg deg seg vår våre mye ble uten noe noen slik "
              "mellom lite takk ny nye nytt kjære var blir ut opp dere hverandre ennå igjen "
              "gjennom bruke bruker brukes mer gjøre gjør lage laget hjelp hjelpe utvikler "
              "utviklere utvikling sikkerhet derfor fikk bedre uke ukens",
    }.items()
}  # fmt: skip

# When the words leave languages of one family level, langdetect chooses within the family (its
# codes): a Danish text whose words Norwegian shares is not Italian, and is found among three
# languages several times faster than among 55
FAMILIES: tuple[frozenset[str], ...] = tuple(
    frozenset(family.split())
    for family in ("sv da no", "en de nl af", "es pt fr it ca ro", "cs sk pl hr sl", "tr")
)

# Spellings that tell neighbours apart once their words left them level, and only then: an
# English "insert" ends as Norwegian "generert" does. Danish writes "genereret", "scannede",
# "sikkerhed", "udvikler"; Norwegian "generert", "versjon", "utvikler"; Swedish "genererad",
# "skannade", "version"
NEIGHBOUR_SPELLINGS: dict[frozenset[str], tuple[tuple[re.Pattern[str], str], ...]] = {
    frozenset(("sv", "da", "no")): tuple(
        (re.compile(pattern), lang)
        for pattern, lang in (
            (r"\w\weret\b|\w\werede\b|\w\w\wede\b|\w\whed(?:en|er)?\b|\bud\w\w\w|gennem", "da"),
            (r"\w\wert\b|\w\werte\b|\w\wsjon(?:en|er|ene)?\b|\but\w\w\w|gjennom", "no"),
            (r"\w\werade?\b|\w\w\wade\b|\w\wtion(?:en|er)?\b", "sv"),
            (r"\w\wtion(?:en|er)?\b", "da"),
        )
    ),
}

# spellings, in ASCII letters, and the languages here that write them: LETTERS holds them too,
# for text that is not ASCII. A suffix after an apostrophe (PostgreSQL'de, Git'te, Kubernetes'e)
# and the plural's possessive (stratejileri) are Turkish
SPELLINGS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"\w\w['’](?:d[ae]n?|t[ae]n?|n[iıuü]n|[iıuü]n|[iıuüea]|y[ea]|y[iıuü]|l[ea])\b"
                r"|\w\w(?:leri|ları)\b"), ("tr",)),
)  # fmt: skip

# letters and spellings, and the languages here that write them (with SPELLINGS: a text that
# is not ASCII is read for both)
LETTERS: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = tuple(
    (re.compile(pattern), tuple(langs.split()))
    for pattern, langs in (
        ("[ß]", "de"), ("[äÄ]", "de sv"), ("[öÖ]", "de sv tr"), ("[üÜ]", "de tr"),
        ("[ñ¿¡]|ión|iones", "es"), ("[ãõ]|ção|ções", "pt"), ("[ç]", "fr pt tr"),
        ("[èëœîïû]", "fr"), ("[êàâ]", "fr pt"), ("[łśżźąęńŁŚŻŹ]", "pl"), ("[ć]", "pl hr"),
        ("[ğışİŞĞ]", "tr"), ("[åÅ]", "sv da no"), ("[øØæÆ]", "da no"), ("[řůěŘŮĚýÝ]", "cs"),
        ("[čšžČŠŽ]", "cs hr"), ("[đĐ]", "hr"),
    )
) + SPELLINGS  # fmt: skip


# Vietnamese alone among these writes ơ ư ĩ ũ and the stacked tone marks of Latin Extended
# Additional (U+1EA0 to U+1EF9); its ê, à, â are French letters too (ă Romanian), but not in its
# short words "gì" (what), "và" (and), "có" (has), "các" (the …s)
VIETNAMESE = re.compile(r"[ơưĩũƠƯĨŨ\u1ea0-\u1ef9]|\b(?:gì|và|có|các)\b", re.IGNORECASE)

# Arabic script: Persian writes پ چ ژ گ and its own ی and ک; Arabic writes ة ي ك, which Persian
# does not
PERSIAN = re.compile(r"[پچژگیک]|\b(?:به|را|از)\b")
ARABIC = re.compile("[ةيكى]")
