//! WeChat's message encryption, used by accounts in safe or compatible mode
//! (developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html):
//! `<Encrypt>` is the Base64 of AES-256-CBC, keyed with the Base64-decoded EncodingAESKey
//! and its first 16 bytes as IV, over 16 random bytes, the message's length (4 bytes,
//! big-endian), the message and the AppID, padded PKCS#7-style to 32 bytes; the query's
//! `msg_signature` is the hex SHA-1 of the token, timestamp, nonce and `<Encrypt>` sorted
//! and joined.

use aes::Aes256;
use base64::alphabet::STANDARD;
use base64::engine::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, KeyIvInit};

use crate::signature::sha1_hex;
use crate::ChannelError;

/// WeChat pads to this many bytes, not to the AES block.
const PAD_BLOCK: usize = 32;

/// EncodingAESKeys end in a character whose spare bits are not always zero.
fn lenient_base64() -> GeneralPurpose {
    GeneralPurpose::new(
        &STANDARD,
        GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    )
}

fn key_of(encoding_aes_key: &str) -> Result<Vec<u8>, ChannelError> {
    lenient_base64()
        .decode(format!("{encoding_aes_key}="))
        .ok()
        .filter(|key| key.len() == 32)
        .ok_or_else(|| {
            ChannelError::Malformed(
                "the channel's encodingAesKey is not 43 Base64 characters".into(),
            )
        })
}

pub(crate) fn message_signature(
    token: &str,
    timestamp: &str,
    nonce: &str,
    encrypted: &str,
) -> String {
    let mut parts = [token, timestamp, nonce, encrypted];
    parts.sort_unstable();
    sha1_hex(&parts.concat())
}

/// The message inside `encrypted`, if it was encrypted for `app_id` with the key.
pub(crate) fn decrypt(
    encoding_aes_key: &str,
    encrypted: &str,
    app_id: &str,
) -> Result<String, ChannelError> {
    let key = key_of(encoding_aes_key)?;
    let unreadable = || {
        ChannelError::Forbidden(
            "<Encrypt> does not decrypt with the channel's encodingAesKey".into(),
        )
    };
    let mut data = lenient_base64()
        .decode(encrypted.trim())
        .map_err(|_| ChannelError::Malformed("<Encrypt> is not Base64".into()))?;
    let plain = cbc::Decryptor::<Aes256>::new_from_slices(&key, &key[..16])
        .map_err(|_| unreadable())?
        .decrypt_padded_mut::<NoPadding>(&mut data)
        .map_err(|_| unreadable())?;
    let pad = usize::from(*plain.last().ok_or_else(unreadable)?);
    if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
        return Err(unreadable());
    }
    let plain = &plain[..plain.len() - pad];
    let length = plain
        .get(16..20)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(unreadable)?;
    let message = plain.get(20..20 + length).ok_or_else(unreadable)?;
    if &plain[20 + length..] != app_id.as_bytes() {
        return Err(ChannelError::Forbidden(
            "the message was encrypted for another AppID".into(),
        ));
    }
    String::from_utf8(message.to_vec()).map_err(|_| unreadable())
}

#[cfg(test)]
pub(crate) mod tests {
    use cbc::cipher::BlockEncryptMut;

    use super::*;

    /// Encrypts as WeChat does, for tests.
    pub(crate) fn encrypt(encoding_aes_key: &str, message: &str, app_id: &str) -> String {
        let key = key_of(encoding_aes_key).unwrap();
        let mut plain = b"0123456789abcdef".to_vec();
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(app_id.as_bytes());
        let pad = PAD_BLOCK - plain.len() % PAD_BLOCK;
        plain.extend(std::iter::repeat_n(pad as u8, pad));
        let length = plain.len();
        let sealed = cbc::Encryptor::<Aes256>::new_from_slices(&key, &key[..16])
            .unwrap()
            .encrypt_padded_mut::<NoPadding>(&mut plain, length)
            .unwrap()
            .to_vec();
        base64::engine::general_purpose::STANDARD.encode(sealed)
    }

    /// The sample of WeChat's own encryption library (token `spamtest`, AppID
    /// `wx2c2769f8efd9abc2`).
    const SAMPLE_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
    const SAMPLE: &str = "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE=";

    #[test]
    fn wechats_own_sample_verifies_and_decrypts() {
        assert_eq!(
            message_signature("spamtest", "1409735669", "1320562132", SAMPLE),
            "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
        );
        let message = decrypt(SAMPLE_KEY, SAMPLE, "wx2c2769f8efd9abc2").unwrap();
        assert!(
            message.contains("<MsgType><![CDATA[text]]></MsgType>"),
            "{message}"
        );
        assert!(matches!(
            decrypt(SAMPLE_KEY, SAMPLE, "wx0000000000000000"),
            Err(ChannelError::Forbidden(_))
        ));
    }

    #[test]
    fn what_is_encrypted_decrypts_and_a_wrong_key_does_not() {
        let sealed = encrypt(SAMPLE_KEY, "<xml>你好</xml>", "wxapp");
        assert_eq!(
            decrypt(SAMPLE_KEY, &sealed, "wxapp").unwrap(),
            "<xml>你好</xml>"
        );
        let other = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut";
        assert!(decrypt(other, &sealed, "wxapp").is_err());
    }
}
