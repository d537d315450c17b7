//! Email addresses, phone numbers and websites, validated and normalized.

use serde::{Deserialize, Serialize};

/// An email address (its ASCII form), in bytes.
pub const MAX_EMAIL: usize = 254;
/// A website address, in bytes.
pub const MAX_WEBSITE: usize = 2048;
/// A phone number as typed, spaces, dashes and parentheses included.
pub const MAX_PHONE: usize = 32;

/// An email address that mail can be sent to, lower-cased (addresses are matched
/// case-insensitively), its domain in ASCII: an internationalized domain (`школа.рф`) is
/// kept in its ASCII form (`xn--80atdl2c.xn--p1ai`), the form SES sends to. A local part
/// (before `@`) must be ASCII: SES cannot send to others.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        let err = || "must be an email address like name@school.ru".to_string();
        let (local, domain) = email.rsplit_once('@').ok_or_else(err)?;
        if !local.is_ascii() {
            return Err("the part before @ must be in Latin letters, digits and . _ - +: mail cannot be delivered \
                        to an address with other characters there"
                .into());
        }
        let domain =
            if domain.is_ascii() { domain.to_string() } else { idna::domain_to_ascii(domain).map_err(|_| err())? };
        let email = format!("{local}@{domain}");
        if email.len() > MAX_EMAIL {
            return Err(err());
        }
        let domain = domain.as_str();
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.chars().all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Email(email.clone()))
        } else {
            Err(err())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `raw` as addresses are matched: its parsed form, or lower-cased as it is when it
    /// cannot be one (an identity provider's address, say).
    pub fn normalized(raw: &str) -> String {
        Email::parse(raw).map(|e| e.0).unwrap_or_else(|_| raw.trim().to_lowercase())
    }
}

/// A phone number in E.164 (`+79161234567`). Spaces, dashes, dots and parentheses that
/// people type are dropped before checking.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.chars().count() > MAX_PHONE {
            return Err(format!("must be at most {MAX_PHONE} characters"));
        }
        let compact: String = raw.chars().filter(|c| !" -.()\u{a0}".contains(*c)).collect();
        let digits = compact.strip_prefix('+');
        let ok = matches!(digits, Some(d) if (8..=15).contains(&d.len())
            && d.bytes().all(|b| b.is_ascii_digit())
            && !d.starts_with('0'));
        if ok {
            Ok(Phone(compact))
        } else {
            Err("must be a phone number in international format (E.164), like +79161234567".into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A website: an absolute http(s) URL with a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Website(String);

impl Website {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let err = || "must be a website address starting with http:// or https://".to_string();
        let text = raw.trim();
        if text.len() > MAX_WEBSITE {
            return Err(format!("must be at most {MAX_WEBSITE} characters"));
        }
        let url = url::Url::parse(text).map_err(|_| err())?;
        let host_ok = match url.host() {
            Some(url::Host::Domain(d)) => d.contains('.') || d == "localhost",
            Some(_) => true,
            None => false,
        };
        if !matches!(url.scheme(), "http" | "https")
            || !host_ok
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return Err(err());
        }
        Ok(Website(url.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(Email::parse(" Anna.Petrova@School.RU ").unwrap().as_str(), "anna.petrova@school.ru");
        // SES sends to ASCII local parts only; a Cyrillic domain goes in its ASCII form.
        let refused = Email::parse("учитель@школа.рф").unwrap_err();
        assert!(refused.contains("before @"), "{refused}");
        assert_eq!(Email::parse("Anna@Школа.РФ").unwrap().as_str(), "anna@xn--80atdl2c.xn--p1ai");
        assert_eq!(Email::normalized("anna@школа.рф"), "anna@xn--80atdl2c.xn--p1ai");
        for bad in ["", "a", "a@", "@b.ru", "a@b", "a b@c.ru", "a@@b.ru", "a..b@c.ru", "a@-b.ru"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(Phone::parse("+7 (916) 123-45-67").unwrap().as_str(), "+79161234567");
        for bad in ["89161234567", "+0123456789", "+7916abc4567", "+1234567", "+1234567890123456"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn websites() {
        assert_eq!(Website::parse("https://school1.ru").unwrap().as_str(), "https://school1.ru/");
        assert!(Website::parse("http://xn--80aaa.xn--p1ai/about").is_ok());
        for bad in [
            "school1.ru",
            "ftp://school1.ru",
            "javascript:alert(1)",
            "https://",
            "https://user:pw@a.ru",
            "http://intranet",
        ] {
            assert!(Website::parse(bad).is_err(), "{bad}");
        }
    }
}
