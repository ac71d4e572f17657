//! Files customers and agents send: which are accepted, recognised by their content
//! rather than by what the client claims, and how they are named.

use serde::Serialize;

use crate::time::Timestamp;
use crate::validation::{fail, Checked, Rule};
use crate::{ConversationId, ValidationError};

pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_NAME_CHARS: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StoredFile {
    pub file_id: String,
    pub conversation_id: ConversationId,
    pub name: String,
    pub mime_type: String,
    pub size: u64,
    pub created_at: Timestamp,
}

impl StoredFile {
    /// Images are shown inline; every other file is only ever downloaded.
    pub fn is_image(&self) -> bool {
        self.mime_type.starts_with("image/")
    }
}

/// The type of an accepted file, from its first bytes and, for text and office
/// documents, its extension: PNG, JPEG, GIF, WebP; Ogg, MP3, AMR, WAV, M4A (what
/// messaging apps record voice in); MP4, 3GP, QuickTime, WebM; PDF, DOCX, XLSX, PPTX,
/// ZIP, TXT, CSV.
pub fn classify(name: &str, content: &[u8]) -> Result<&'static str, ValidationError> {
    if content.is_empty() {
        return Err(ValidationError::new("file", Rule::Required));
    }
    if content.len() > MAX_FILE_BYTES {
        return Err(ValidationError::new(
            "file",
            Rule::NotAllowed {
                reason: format!("files are at most {MAX_FILE_BYTES} bytes"),
            },
        ));
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let starts = |magic: &[u8]| content.starts_with(magic);
    let kind = if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"\xff\xd8\xff") {
        Some("image/jpeg")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if starts(b"RIFF") && content.get(8..12) == Some(b"WEBP") {
        Some("image/webp")
    } else if starts(b"OggS") {
        Some("audio/ogg")
    } else if starts(b"ID3")
        || content
            .get(..2)
            .is_some_and(|h| h[0] == 0xff && h[1] & 0xe6 == 0xe2)
    {
        Some("audio/mpeg")
    } else if starts(b"#!AMR") {
        Some("audio/amr")
    } else if starts(b"RIFF") && content.get(8..12) == Some(b"WAVE") {
        Some("audio/wav")
    } else if content.get(4..8) == Some(b"ftyp") {
        Some(match content.get(8..11) {
            Some(b"M4A") => "audio/mp4",
            Some(b"3gp") => "video/3gpp",
            Some(b"qt ") => "video/quicktime",
            _ => "video/mp4",
        })
    } else if starts(b"\x1a\x45\xdf\xa3") {
        Some("video/webm")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else if starts(b"PK\x03\x04") {
        Some(match extension.as_str() {
            "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            _ => "application/zip",
        })
    } else if matches!(extension.as_str(), "txt" | "csv")
        && std::str::from_utf8(content).is_ok()
        && !content.contains(&0)
    {
        Some(if extension == "csv" {
            "text/csv"
        } else {
            "text/plain"
        })
    } else {
        None
    };
    kind.ok_or_else(|| {
        let reason = "only images (PNG, JPEG, GIF, WebP), audio (Ogg, MP3, AMR, WAV, M4A), video (MP4, 3GP, QuickTime, WebM) and documents (PDF, DOCX, XLSX, PPTX, ZIP, TXT, CSV) are accepted".into();
        ValidationError::new("file", Rule::NotAllowed { reason })
    })
}

/// The name to keep: its last path segment, without control characters, at most 255
/// characters; `file` when nothing is left.
pub fn clean_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_NAME_CHARS)
        .collect();
    let trimmed = cleaned.trim().trim_start_matches('.');
    if trimmed.is_empty() {
        "file".into()
    } else {
        trimmed.to_owned()
    }
}

/// A file id is an unguessable token of letters, digits, `-` and `_`.
pub fn check_file_id(id: &str) -> Checked {
    if id.is_empty()
        || id.len() > 64
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return fail(
            "fileId",
            Rule::Pattern {
                expected: "a file id",
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_recognised_by_content_not_by_claim() {
        assert_eq!(classify("a.png", b"\x89PNG\r\n\x1a\nrest"), Ok("image/png"));
        assert_eq!(
            classify("photo.txt", b"\xff\xd8\xff\xe0jpeg"),
            Ok("image/jpeg")
        );
        assert_eq!(classify("doc.pdf", b"%PDF-1.7"), Ok("application/pdf"));
        assert_eq!(classify("voice", b"OggS\x00\x02"), Ok("audio/ogg"));
        assert_eq!(classify("song", b"\xff\xfb\x90\x64"), Ok("audio/mpeg"));
        assert_eq!(
            classify("clip", b"\x00\x00\x00\x20ftypisom"),
            Ok("video/mp4")
        );
        assert_eq!(
            classify("memo", b"\x00\x00\x00\x20ftypM4A "),
            Ok("audio/mp4")
        );
        assert!(classify("report.docx", b"PK\x03\x04....")
            .unwrap()
            .contains("wordprocessingml"));
        assert_eq!(classify("notes.txt", "你好".as_bytes()), Ok("text/plain"));
        assert!(
            classify("page.html", b"<html><script>alert(1)</script>").is_err(),
            "no HTML"
        );
        assert!(
            classify("evil.svg", b"<svg onload=alert(1)>").is_err(),
            "no SVG"
        );
        assert!(classify("run.exe", b"MZ\x90\x00").is_err());
        assert!(
            classify("fake.png", b"<html>").is_err(),
            "an extension is not enough"
        );
        assert!(classify("empty.txt", b"").is_err());
        assert!(classify("big.txt", &vec![b'a'; MAX_FILE_BYTES + 1]).is_err());
    }

    #[test]
    fn names_lose_paths_and_control_characters() {
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("C:\\Users\\a\\photo.png"), "photo.png");
        assert_eq!(clean_name("a\u{0}b\nc.txt"), "abc.txt");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name(".hidden"), "hidden");
    }
}
