//! The rules that classify tokens, as one enum: every classifier decision
//! is tagged with the [`Rule`] that made it, later rules branch on it (a
//! "/" after a unit reads "trên"), and `--explain` / `--json` show its
//! name. A misspelt rule is a compile error, never a silent change of what
//! is read.

macro_rules! rules {
    ($($(#[$doc:meta])* $variant:ident = $name:literal,)*) => {
        /// The rule that decided how a stretch of text is read.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rule {
            $($(#[$doc])* $variant,)*
        }

        impl Rule {
            /// Every rule, in declaration order.
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// The rule's name as `--explain` and `--json` show it.
            pub fn name(self) -> &'static str {
                match self {
                    $(Rule::$variant => $name,)*
                }
            }
        }
    };
}

rules! {
    /// An ordinary word, read as written.
    Word = "word",
    /// A word written in capitals in a capital line ("XUÂN ĐIỆP").
    CapsWord = "caps-word",
    /// A pause mark kept in the spoken text.
    Pause = "pause",
    /// A bracket or quote: not read (a pause inside a sentence).
    Bracket = "bracket",
    /// A dash between words or clauses.
    Dash = "dash",
    /// A list bullet or a decorative symbol.
    Bullet = "bullet",
    /// "./." closing an article.
    EndMark = "end-mark",
    /// An unknown acronym, spelled letter by letter.
    AcronymSpelled = "acronym-spelled",
    /// A symbol loa cannot read.
    Unreadable = "unreadable",
    /// A symbol read as a word ("+", "=", "@").
    Symbol = "symbol",
    /// "%" after a quantity.
    Percent = "percent",
    /// A currency sign or code with its amount ("$5", "€3 tỷ", "20₫").
    Money = "money",
    /// "/" read "trên" between units ("đồng/kg", "%/năm").
    Per = "per",
    /// A minus sign before a quantity.
    Negative = "negative",
    /// A unit after a quantity.
    Unit = "unit",
    /// An abbreviation from the lexicon.
    Abbreviation = "abbreviation",
    /// "kh" after a percentage: kế hoạch.
    PlanAfterPercent = "plan-after-percent",
    /// A word with a fixed reading from the lexicon.
    LexiconWord = "lexicon-word",
    /// A Roman numeral after its keyword, or a monarch's number.
    Roman = "roman",
    /// A Roman numeral after "thứ".
    RomanOrdinal = "roman-ordinal",
    /// "thế kỷ XV - XVI".
    RomanRange = "roman-range",
    /// "x" between two quantities, or before one ("x5").
    Times = "times",
    /// An e-mail address.
    Email = "email",
    /// A domain name or URL.
    Domain = "domain",
    /// A hashtag, split into its words.
    Hashtag = "hashtag",
    /// A word chunk with inner connectors, read part by part.
    Compound = "compound",
    /// A single capital letter, read by its name.
    Letter = "letter",
    /// A lower-case letter named by its context ("điểm b").
    LetterName = "letter-name",
    /// "US" before "$": silent.
    CurrencyPrefix = "currency-prefix",
    /// A phone or hotline number, digit by digit.
    Phone = "phone",
    /// An emergency number (113, 114, 115), digit by digit.
    Emergency = "emergency",
    /// A clock time ("15h45", "7:05:12").
    Time = "time",
    /// A duration in minutes and seconds ("3p20s").
    Duration = "duration",
    /// An ordinal after "thứ".
    Ordinal = "ordinal",
    /// A month number after "tháng".
    Month = "month",
    /// A digit run read digit by digit.
    Digits = "digits",
    /// A count written with a leading zero ("01").
    LeadingZero = "leading-zero",
    /// A plain integer.
    Cardinal = "cardinal",
    /// A date.
    Date = "date",
    /// "quý 1/2023".
    PeriodYear = "period-year",
    /// "tháng 12/2022".
    MonthYear = "month-year",
    /// "a/b" read "a trên b".
    Ratio = "ratio",
    /// "a/b" read "a phần b" (a fraction of something, a mixed number).
    Fraction = "fraction",
    /// "tỷ lệ chọi 1/8": một chọi tám.
    Odds = "odds",
    /// A thousands-grouped integer.
    Grouped = "grouped",
    /// A decimal number.
    Decimal = "decimal",
    /// Dotted numbers read with "chấm" (versions).
    Dotted = "dotted",
    /// "a – b" read "a đến b".
    Range = "range",
    /// A sport score, read "a b".
    Score = "score",
    /// A season or school year ("2022/23").
    Season = "season",
    /// "15-17/3": days of one month.
    DateRange = "date-range",
    /// A document number ("81/2023/NĐ-CP").
    Document = "document",
    /// A vehicle plate ("51D-273.56").
    Plate = "plate",
    /// A flight, train or route code, a ticker or an index ("VN215", "SE8", "VN30").
    Code = "code",
    /// An informal amount ("35k", "1tr5", "4 tỏi").
    Informal = "informal",
    /// "120.000+": hơn …
    MoreThan = "more-than",
    /// An address abbreviation ("P.3", "Q. Bình Thạnh").
    Address = "address",
    /// A number with letters or other parts, read part by part.
    Mixed = "mixed",
}

impl Rule {
    /// True when the token will not be read well (`--explain`'s list).
    pub fn is_doubtful(self) -> bool {
        matches!(self, Rule::AcronymSpelled | Rule::Unreadable)
    }

    /// True for rules that rewrite nothing worth showing in `--explain`.
    pub fn is_plain(self) -> bool {
        matches!(self, Rule::Word | Rule::Pause | Rule::CapsWord | Rule::Bracket | Rule::Dash | Rule::Bullet)
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

impl serde::Serialize for Rule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for r in Rule::ALL {
            let n = r.name();
            assert!(seen.insert(n), "{n} twice");
            assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{n}");
        }
        assert_eq!(format!("{:<8}|", Rule::Date), "date    |");
    }
}
