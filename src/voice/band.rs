//! The audio band a voice was heard in.
//!
//! A client sending 8 kHz audio (a telephone line) leaves out everything
//! above 4 kHz, and voices heard that way sound more alike: different
//! speakers score higher against each other. Scores are normalised against
//! a cohort heard in the same band (`super::cohort`), so templates record
//! the band they were made in.

/// The band of a recording, from the client's sample rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Band {
    /// 16 kHz or more: the whole band the speaker model hears (up to 8 kHz).
    Wide,
    /// Less than 16 kHz (a telephone's 8 kHz): at most half of it.
    Narrow,
}

impl Band {
    /// The band audio sent at `sample_rate` reaches the engine with.
    pub fn of_rate(sample_rate: u32) -> Self {
        if sample_rate >= 16_000 {
            Band::Wide
        } else {
            Band::Narrow
        }
    }

    /// The band's code in a template.
    pub fn code(self) -> u8 {
        match self {
            Band::Wide => 0,
            Band::Narrow => 1,
        }
    }

    /// The band of a template code, if it is one.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Band::Wide),
            1 => Some(Band::Narrow),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_under_16_khz_are_narrow() {
        for rate in [8_000, 11_025, 12_000, 15_999] {
            assert_eq!(Band::of_rate(rate), Band::Narrow, "{rate}");
        }
        for rate in [16_000, 22_050, 44_100, 48_000] {
            assert_eq!(Band::of_rate(rate), Band::Wide, "{rate}");
        }
    }

    #[test]
    fn codes_round_trip_and_unknown_codes_are_none() {
        for band in [Band::Wide, Band::Narrow] {
            assert_eq!(Band::from_code(band.code()), Some(band));
        }
        assert_eq!(Band::from_code(2), None);
    }
}
