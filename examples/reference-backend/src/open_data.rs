//! WeChat open data (WXBizDataCrypt): AES-128-CBC, PKCS#7 with 16-byte blocks, standard base64;
//! key = the session's session_key, and the payload must carry our appid in its watermark.

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use base64::Engine as _;
use serde_json::Value;
use sha1::{Digest as _, Sha1};

type Decryptor = cbc::Decryptor<aes::Aes128>;

/// What a client submits.
#[derive(Debug, Clone, Copy)]
pub struct Sealed<'a> {
    pub encrypted_data: &'a str,
    pub iv: &'a str,
    pub raw_data: Option<&'a str>,
    pub signature: Option<&'a str>,
}

/// How strictly to open it (the defaults are the correct behaviour).
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    /// Defect `urlsafe-base64`: decode encryptedData with the URL-safe alphabet.
    pub urlsafe_base64: bool,
    /// Defect `no-watermark-check`.
    pub skip_watermark: bool,
}

/// Why open data was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum OpenDataError {
    #[error("session_key is not base64 of 16 bytes")]
    BadSessionKey,
    #[error("iv is not base64 of exactly 16 bytes")]
    BadIv,
    #[error("encryptedData is not valid base64")]
    BadBase64,
    #[error("ciphertext length is not a positive multiple of 16")]
    BadLength,
    #[error("padding is wrong (wrong key or corrupted data)")]
    BadPadding,
    #[error("plaintext is not a json object")]
    NotJson,
    /// The plaintext ends like JSON (`}`) but does not parse: the right key on corrupted data,
    /// since a wrong key leaves no readable text at all.
    #[error("plaintext looks like json but is corrupted")]
    CorruptedJson,
    #[error("watermark.appid is missing or not our appid")]
    Watermark,
    #[error("rawData signature does not match")]
    Signature,
}

impl OpenDataError {
    /// The failures a backend that trusts its input would crash on (defect `crash-on-bad-data`):
    /// a wrong-length IV (`Iv::from_slice` panics) and a plaintext that ends like JSON but is
    /// corrupted (it only guards with `text.ends_with('}')`, then parses with `unwrap()`). A
    /// wrong key shows up as bad padding or unreadable text, which even that backend refuses.
    pub fn would_crash_unguarded_code(self) -> bool {
        matches!(self, OpenDataError::BadIv | OpenDataError::CorruptedJson)
    }
}

/// Decrypts and checks open data; returns the decrypted JSON object as is.
pub fn open(
    sealed: &Sealed<'_>,
    session_key: &str,
    appid: &str,
    rules: Rules,
) -> Result<Value, OpenDataError> {
    open_detailed(sealed, session_key, appid, rules).map_err(|(err, _)| err)
}

/// [`open`], with the text the failing library gave (base64's, the unpadding's, the JSON
/// parser's), which only the defect `internal-detail` passes on to a client.
pub fn open_detailed(
    sealed: &Sealed<'_>,
    session_key: &str,
    appid: &str,
    rules: Rules,
) -> Result<Value, (OpenDataError, String)> {
    let own = |err: OpenDataError| (err, err.to_string());
    let block = |text: &str, err: OpenDataError| -> Result<[u8; 16], (OpenDataError, String)> {
        let bytes = STANDARD.decode(text).map_err(|e| (err, e.to_string()))?;
        let len = bytes.len();
        bytes
            .try_into()
            .map_err(|_| (err, format!("expected 16 bytes, got {len}")))
    };
    let key = block(session_key, OpenDataError::BadSessionKey)?;
    let iv = block(sealed.iv, OpenDataError::BadIv)?;
    let engine = if rules.urlsafe_base64 {
        URL_SAFE
    } else {
        STANDARD
    };
    let ciphertext = engine
        .decode(sealed.encrypted_data)
        .map_err(|e| (OpenDataError::BadBase64, e.to_string()))?;
    if ciphertext.is_empty() || ciphertext.len() % 16 != 0 {
        return Err(own(OpenDataError::BadLength));
    }
    let plaintext = Decryptor::new(&key.into(), &iv.into())
        .decrypt_padded_vec_mut::<Pkcs7>(&ciphertext)
        .map_err(|e| (OpenDataError::BadPadding, e.to_string()))?;
    let value: Value = serde_json::from_slice(&plaintext).map_err(|e| {
        let err = if plaintext.last() == Some(&b'}') {
            OpenDataError::CorruptedJson
        } else {
            OpenDataError::NotJson
        };
        (err, e.to_string())
    })?;
    if !value.is_object() {
        return Err(own(OpenDataError::NotJson));
    }
    if !rules.skip_watermark
        && value.pointer("/watermark/appid").and_then(Value::as_str) != Some(appid)
    {
        return Err(own(OpenDataError::Watermark));
    }
    if let (Some(raw), Some(signature)) = (sealed.raw_data, sealed.signature) {
        if !signature.eq_ignore_ascii_case(&raw_data_signature(raw, session_key)) {
            return Err(own(OpenDataError::Signature));
        }
    }
    Ok(value)
}

/// `hex(sha1(rawData + session_key))`, how WeChat signs the rawData it hands the client.
pub fn raw_data_signature(raw_data: &str, session_key: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(raw_data.as_bytes());
    hasher.update(session_key.as_bytes());
    hex::encode(hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    // docs/wechat-api.md 7.1, the official WXBizDataCrypt demo vector.
    const APPID: &str = "wx4f4bc4dec97d474b";
    const KEY: &str = "tiihtNczf5v6AKRyjwEUhQ==";
    const IV: &str = "r7BXXKkLb8qrSNn05n0qiA==";
    const DATA: &str = "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==";

    fn sealed<'a>(data: &'a str, iv: &'a str) -> Sealed<'a> {
        Sealed {
            encrypted_data: data,
            iv,
            raw_data: None,
            signature: None,
        }
    }

    #[test]
    fn the_official_vector_decrypts_to_the_official_plaintext() {
        let value = open(&sealed(DATA, IV), KEY, APPID, Rules::default()).unwrap();
        assert_eq!(value["openId"], "oGZUI0egBJY1zhBYw2KhdUfwVJJE");
        assert_eq!(value["nickName"], "Band");
        assert_eq!(value["watermark"]["timestamp"], 1477314187);
    }

    #[test]
    fn another_appid_in_the_watermark_is_refused_unless_unchecked() {
        let err = open(&sealed(DATA, IV), KEY, "wxother", Rules::default()).unwrap_err();
        assert_eq!(err, OpenDataError::Watermark);
        let rules = Rules {
            skip_watermark: true,
            ..Rules::default()
        };
        assert!(open(&sealed(DATA, IV), KEY, "wxother", rules).is_ok());
    }

    #[test]
    fn broken_inputs_are_refused_with_their_reason() {
        let short_iv = STANDARD.encode([0u8; 15]);
        assert_eq!(
            open(&sealed(DATA, &short_iv), KEY, APPID, Rules::default()),
            Err(OpenDataError::BadIv)
        );
        assert_eq!(
            open(&sealed("%%%", IV), KEY, APPID, Rules::default()),
            Err(OpenDataError::BadBase64)
        );
        assert_eq!(
            open(&sealed("AAAA", IV), KEY, APPID, Rules::default()),
            Err(OpenDataError::BadLength)
        );
        let other_key = STANDARD.encode([7u8; 16]);
        assert!(open(&sealed(DATA, IV), &other_key, APPID, Rules::default()).is_err());
    }

    #[test]
    fn a_flipped_bit_in_the_first_block_is_corrupted_json_and_a_wrong_key_is_not() {
        let mut bytes = STANDARD.decode(DATA).unwrap();
        bytes[5] ^= 0x10;
        let flipped = STANDARD.encode(bytes);
        let err = open(&sealed(&flipped, IV), KEY, APPID, Rules::default()).unwrap_err();
        assert_eq!(err, OpenDataError::CorruptedJson);
        assert!(err.would_crash_unguarded_code());
        for seed in 0..=255u8 {
            let other_key = STANDARD.encode([seed; 16]);
            if let Err(err) = open(&sealed(DATA, IV), &other_key, APPID, Rules::default()) {
                assert!(!err.would_crash_unguarded_code(), "key byte {seed}: {err}");
            }
        }
    }

    #[test]
    fn the_url_safe_alphabet_cannot_read_standard_base64() {
        let rules = Rules {
            urlsafe_base64: true,
            ..Rules::default()
        };
        assert_eq!(
            open(&sealed(DATA, IV), KEY, APPID, rules),
            Err(OpenDataError::BadBase64)
        );
    }

    #[test]
    fn the_raw_data_signature_matches_the_official_vector() {
        let raw = r#"{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}"#;
        assert_eq!(
            raw_data_signature(raw, "HyVFkGl5F5OQWJZZaNzBBg=="),
            "75e81ceda165f4ffa64f4068af58c64b8f54b88c"
        );
    }
}
