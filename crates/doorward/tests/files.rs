//! The files service, the same checks on every backend: memory, a local
//! folder, and S3 on a loopback S3-compatible server (`moto_server`, started
//! by `scripts/services`) when reachable (`DOORWARD_TEST_S3_ENDPOINT`,
//! default `http://127.0.0.1:9000`; under `DOORWARD_REQUIRE_SERVICES=1` a
//! missing server fails the S3 tests). Each S3 run gets a bucket of its own.
#![cfg(feature = "files")]

mod common;

use std::time::Duration;

use doorward::{Config, Doorward, ErrorCode};

use common::ErrCode as _;
use common::services;

const MIB: usize = 1024 * 1024;

/// One backend under test, and what keeps it alive.
struct Backend {
    name: &'static str,
    dw: Doorward,
    /// The local folder, to look at what is on disk.
    dir: Option<tempfile::TempDir>,
    s3: bool,
    /// `endpoint/bucket` on S3, to ask the server directly.
    bucket_url: Option<String>,
}

fn config(files_url: String) -> Config {
    Config {
        files_url: Some(files_url),
        ..common::config("memory://")
    }
}

async fn memory(config_fn: impl Fn(Config) -> Config) -> Backend {
    let dw = Doorward::open(config_fn(config("memory://".into())))
        .await
        .unwrap();
    Backend {
        name: "memory",
        dw,
        dir: None,
        s3: false,
        bucket_url: None,
    }
}

async fn local(config_fn: impl Fn(Config) -> Config) -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("file://{}", dir.path().join("files").display());
    let dw = Doorward::open(config_fn(config(url))).await.unwrap();
    Backend {
        name: "local",
        dw,
        dir: Some(dir),
        s3: false,
        bucket_url: None,
    }
}

#[cfg(feature = "s3")]
async fn s3(config_fn: impl Fn(Config) -> Config) -> Option<Backend> {
    let (endpoint, bucket) = services::s3_bucket().await?;
    let bucket_url = format!("{endpoint}/{bucket}");
    let config = Config {
        files_s3_endpoint: Some(endpoint),
        files_s3_region: Some("us-east-1".into()),
        files_s3_access_key_id: Some("test-access-key".into()),
        files_s3_secret_access_key: Some("test-secret-key".into()),
        files_s3_allow_http: true,
        ..config(format!("s3://{bucket}"))
    };
    let dw = Doorward::open(config_fn(config)).await.unwrap();
    Some(Backend {
        name: "s3",
        dw,
        dir: None,
        s3: true,
        bucket_url: Some(bucket_url),
    })
}

/// Every backend the build has, each with `config_fn` applied.
async fn backends_with(config_fn: impl Fn(Config) -> Config + Copy) -> Vec<Backend> {
    let all = vec![memory(config_fn).await, local(config_fn).await];
    #[cfg(feature = "s3")]
    let all = {
        let mut all = all;
        all.extend(s3(config_fn).await);
        all
    };
    all
}

async fn backends() -> Vec<Backend> {
    backends_with(|c| c).await
}

/// Every key the store holds, through the API.
async fn all_keys(dw: &Doorward) -> Vec<String> {
    let page = dw.files().list(None, None, 1000).await.unwrap();
    page.items.into_iter().map(|f| f.key).collect()
}

/// Every file under the local backend's folder, doorward's own included.
fn files_on_disk(backend: &Backend) -> Vec<String> {
    let Some(dir) = &backend.dir else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut stack = vec![dir.path().join("files")];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry.file_type().unwrap().is_dir() {
                stack.push(entry.path());
            } else {
                found.push(entry.path().display().to_string());
            }
        }
    }
    found
}

/// The content type of an object stored without one: none, but S3 gives
/// it its own default.
fn untyped(backend: &Backend) -> Option<String> {
    backend.s3.then(|| "binary/octet-stream".to_string())
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| {
            (i as u64)
                .wrapping_mul(2_654_435_761)
                .wrapping_add(seed as u64) as u8
        })
        .collect()
}

#[tokio::test]
async fn put_get_head_delete_roundtrip() {
    for b in backends().await {
        let files = b.dw.files();
        let body = pattern(3000, 1);
        let put = files
            .put(
                "docs/report.txt",
                body.clone(),
                Some("text/plain; charset=utf-8"),
            )
            .await
            .unwrap();
        assert_eq!(put.key, "docs/report.txt", "{}", b.name);
        assert_eq!(put.size, 3000, "{}", b.name);
        assert_eq!(
            put.content_type.as_deref(),
            Some("text/plain; charset=utf-8")
        );

        let (info, bytes) = files.get("docs/report.txt").await.unwrap();
        assert_eq!(&bytes[..], &body[..], "{}", b.name);
        assert_eq!(info, put, "{}: get reports what put did", b.name);
        let head = files.head("docs/report.txt").await.unwrap();
        assert_eq!(head, put, "{}: head reports what put did", b.name);

        // Overwriting replaces the body and the content type.
        let again = files.put("docs/report.txt", "short", None).await.unwrap();
        assert_eq!(again.size, 5, "{}", b.name);
        assert_eq!(again.content_type, untyped(&b), "{}", b.name);
        assert_eq!(files.head("docs/report.txt").await.unwrap(), again);

        assert!(files.delete("docs/report.txt").await.unwrap(), "{}", b.name);
        assert!(
            !files.delete("docs/report.txt").await.unwrap(),
            "{}",
            b.name
        );
        for code in [
            files.get("docs/report.txt").await.err_code(),
            files.head("docs/report.txt").await.err_code(),
        ] {
            assert_eq!(code, ErrorCode::NotFound, "{}", b.name);
        }
        assert!(all_keys(&b.dw).await.is_empty(), "{}", b.name);
        assert!(
            files_on_disk(&b).is_empty(),
            "{}: {:?}",
            b.name,
            files_on_disk(&b)
        );

        // An empty object is an object.
        let empty = files.put("empty", Vec::<u8>::new(), None).await.unwrap();
        assert_eq!(empty.size, 0);
        assert_eq!(files.get("empty").await.unwrap().1.len(), 0);
    }
}

#[tokio::test]
async fn content_types_are_kept_and_never_guessed() {
    for b in backends().await {
        let files = b.dw.files();
        files
            .put("a/photo.png", "not really a png", Some("image/png"))
            .await
            .unwrap();
        files.put("a/untyped.png", "x", None).await.unwrap();
        assert_eq!(
            files
                .head("a/photo.png")
                .await
                .unwrap()
                .content_type
                .as_deref(),
            Some("image/png"),
            "{}",
            b.name
        );
        assert_eq!(
            files.get("a/untyped.png").await.unwrap().0.content_type,
            untyped(&b),
            "{}: no content type from the extension",
            b.name
        );
        for bad in ["", "text/plain\r\nX-Evil: 1", "ünicode/type"] {
            let err = files.put("a/bad", "x", Some(bad)).await.unwrap_err();
            assert_eq!(err.field(), Some("content_type"), "{}: {bad:?}", b.name);
        }
        assert_eq!(files.head("a/bad").await.err_code(), ErrorCode::NotFound);
        // The local backend's sidecars stay out of listings.
        assert_eq!(
            all_keys(&b.dw).await,
            ["a/photo.png", "a/untyped.png"],
            "{}",
            b.name
        );
    }
}

#[tokio::test]
async fn list_pages_in_key_order_with_prefix() {
    for b in backends().await {
        let files = b.dw.files();
        let mut keys: Vec<String> = (0..7).map(|i| format!("p/{i:02}")).collect();
        keys.extend(["p/sub/x".to_string(), "q/1".to_string(), "pz".to_string()]);
        // Written out of order, so order comes from the listing.
        for key in keys.iter().rev() {
            files.put(key, key.clone(), None).await.unwrap();
        }
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let page = files.list(Some("p"), cursor.as_deref(), 3).await.unwrap();
            assert!(page.items.len() <= 3);
            pages += 1;
            seen.extend(page.items.iter().map(|f| f.key.clone()));
            for item in &page.items {
                assert_eq!(item.size, item.key.len() as u64, "{}", b.name);
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let expected: Vec<String> = keys
            .iter()
            .filter(|k| k.starts_with("p/"))
            .cloned()
            .collect();
        assert_eq!(seen, expected, "{}", b.name);
        assert_eq!(pages, 3, "{}", b.name);

        let all = files.list(None, None, 100).await.unwrap();
        assert_eq!(all.items.len(), keys.len(), "{}", b.name);
        assert!(all.next_cursor.is_none());
        let mut sorted = keys.clone();
        sorted.sort();
        let listed: Vec<String> = all.items.into_iter().map(|f| f.key).collect();
        assert_eq!(listed, sorted, "{}", b.name);

        assert!(
            files
                .list(Some("nothing"), None, 10)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        for (prefix, cursor, limit, field) in [
            (None, None, 0, "limit"),
            (None, None, 1001, "limit"),
            (Some("../x"), None, 10, "prefix"),
            (None, Some("/abs"), 10, "cursor"),
        ] {
            let err = files.list(prefix, cursor, limit).await.unwrap_err();
            assert_eq!(err.field(), Some(field), "{}", b.name);
        }
    }
}

#[tokio::test]
async fn bad_keys_are_refused_and_write_nothing() {
    for b in backends().await {
        let files = b.dw.files();
        let long = "k".repeat(1025);
        for key in [
            "",
            "/etc/passwd",
            "../outside",
            "a/../../b",
            "a/./b",
            "a//b",
            "trailing/",
            "ctl\u{1}",
            "new\nline",
            "back\\slash",
            ".doorward/content-type/x",
            long.as_str(),
        ] {
            let err = files.put(key, "data", None).await.unwrap_err();
            assert_eq!(
                err.code(),
                ErrorCode::ValidationError,
                "{}: {key:?}",
                b.name
            );
            assert_eq!(err.field(), Some("key"), "{}: {key:?}", b.name);
            assert_eq!(files.get(key).await.unwrap_err().field(), Some("key"));
            assert_eq!(files.head(key).await.unwrap_err().field(), Some("key"));
            assert_eq!(files.delete(key).await.unwrap_err().field(), Some("key"));
            let err = files.put_stream(key, &b"data"[..], None).await.unwrap_err();
            assert_eq!(err.field(), Some("key"));
        }
        assert!(all_keys(&b.dw).await.is_empty(), "{}", b.name);
        assert!(files_on_disk(&b).is_empty(), "{}", b.name);
        if let Some(dir) = &b.dir {
            assert!(!dir.path().join("outside").exists());
            assert!(!dir.path().join("b").exists());
        }
    }
}

#[tokio::test]
async fn oversize_bodies_are_refused_before_writing() {
    let small = |c: Config| Config {
        files_max_bytes: 1000,
        ..c
    };
    for b in backends_with(small).await {
        let files = b.dw.files();
        let err = files.put("big", vec![0u8; 1001], None).await.unwrap_err();
        assert_eq!(
            (err.code(), err.field()),
            (ErrorCode::ValidationError, Some("data")),
            "{}",
            b.name
        );
        let err = files
            .put_stream("big", &vec![0u8; 5000][..], None)
            .await
            .unwrap_err();
        assert_eq!(err.field(), Some("data"), "{}", b.name);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.bin");
        std::fs::write(&path, vec![1u8; 1001]).unwrap();
        let err = files.put_file("big", &path, None).await.unwrap_err();
        assert_eq!(err.field(), Some("data"), "{}", b.name);
        assert_eq!(files.head("big").await.err_code(), ErrorCode::NotFound);
        // At the cap is fine.
        assert_eq!(
            files.put("edge", vec![0u8; 1000], None).await.unwrap().size,
            1000
        );
        assert_eq!(all_keys(&b.dw).await, ["edge"], "{}", b.name);
    }
}

/// A body that keeps coming past the cap, after several parts went up.
#[tokio::test]
async fn a_stream_over_the_cap_midway_leaves_nothing() {
    let capped = |c: Config| Config {
        files_max_bytes: 20 * MIB as u64,
        ..c
    };
    for b in backends_with(capped).await {
        let files = b.dw.files();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("growing.bin");
        std::fs::write(&path, pattern(30 * MIB, 3)).unwrap();
        // The stream, unlike the file, has no size up front.
        let reader = tokio::fs::File::open(&path).await.unwrap();
        let err = files.put_stream("huge", reader, None).await.unwrap_err();
        assert_eq!(err.field(), Some("data"), "{}", b.name);
        assert_eq!(
            files.head("huge").await.err_code(),
            ErrorCode::NotFound,
            "{}",
            b.name
        );
        assert!(all_keys(&b.dw).await.is_empty(), "{}", b.name);
        assert!(
            files_on_disk(&b).is_empty(),
            "{}: {:?}",
            b.name,
            files_on_disk(&b)
        );
        if let Some(bucket) = &b.bucket_url {
            // No multipart upload left pending either (its parts would be billed).
            let (status, body) = services::http("GET", &format!("{bucket}?uploads"), &[])
                .await
                .unwrap();
            let body = String::from_utf8_lossy(&body);
            assert_eq!(status, 200, "{body}");
            assert!(!body.contains("<Upload>"), "{body}");
        }
    }
}

#[tokio::test]
async fn multipart_uploads_from_a_file_are_identical() {
    for b in backends().await {
        let files = b.dw.files();
        let dir = tempfile::tempdir().unwrap();
        let body = pattern(20 * MIB + 12345, 7);
        let path = dir.path().join("upload.bin");
        std::fs::write(&path, &body).unwrap();
        let put = files
            .put_file("big/upload.bin", &path, Some("application/octet-stream"))
            .await
            .unwrap();
        assert_eq!(put.size, body.len() as u64, "{}", b.name);
        let (info, bytes) = files.get("big/upload.bin").await.unwrap();
        assert_eq!(
            info.content_type.as_deref(),
            Some("application/octet-stream"),
            "{}",
            b.name
        );
        assert!(bytes[..] == body[..], "{}: the object differs", b.name);

        let out = dir.path().join("download.bin");
        let got = files.get_to_file("big/upload.bin", &out).await.unwrap();
        assert_eq!(got.size, body.len() as u64);
        assert!(std::fs::read(&out).unwrap() == body, "{}", b.name);

        // A body already in memory over one part goes up in parts too.
        let in_memory = pattern(9 * MIB, 9);
        files
            .put("big/mem.bin", in_memory.clone(), None)
            .await
            .unwrap();
        assert!(files.get("big/mem.bin").await.unwrap().1[..] == in_memory[..]);
        // Exactly one part is a single upload.
        let exact = pattern(8 * MIB, 4);
        let reader = std::io::Cursor::new(exact.clone());
        files
            .put_stream("big/exact.bin", reader, None)
            .await
            .unwrap();
        assert!(files.get("big/exact.bin").await.unwrap().1[..] == exact[..]);
        assert_eq!(all_keys(&b.dw).await.len(), 3, "{}", b.name);
    }
}

#[tokio::test]
async fn presigned_urls_work_on_s3_only() {
    for b in backends().await {
        let files = b.dw.files();
        let hour = Duration::from_secs(3600);
        if !b.s3 {
            assert_eq!(
                files.presign_get("a", hour).await.err_code(),
                ErrorCode::ConfigError
            );
            assert_eq!(
                files.presign_put("a", hour).await.err_code(),
                ErrorCode::ConfigError
            );
            continue;
        }
        for expires in [Duration::ZERO, Duration::from_secs(8 * 24 * 3600)] {
            let err = files.presign_get("a", expires).await.unwrap_err();
            assert_eq!(err.field(), Some("expires_in"));
        }
        assert_eq!(
            files.presign_get("../a", hour).await.unwrap_err().field(),
            Some("key")
        );

        files
            .put("shared/a.txt", "hello over http", Some("text/plain"))
            .await
            .unwrap();
        let url = files.presign_get("shared/a.txt", hour).await.unwrap();
        assert!(url.contains("X-Amz-Signature="), "{url}");
        assert!(!url.contains("test-secret-key"));
        let (status, body) = services::http("GET", &url, &[]).await.unwrap();
        assert_eq!((status, &body[..]), (200, &b"hello over http"[..]));

        let url = files.presign_put("shared/up.txt", hour).await.unwrap();
        let (status, _) = services::http("PUT", &url, b"uploaded directly")
            .await
            .unwrap();
        assert_eq!(status, 200);
        let (info, bytes) = files.get("shared/up.txt").await.unwrap();
        assert_eq!((info.size, &bytes[..]), (17, &b"uploaded directly"[..]));
    }
}

#[tokio::test]
async fn the_default_folder_is_beside_the_sqlite_file() {
    if !cfg!(feature = "sqlite") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = common::config(&format!("sqlite://{}", dir.path().join("app.db").display()));
    let dw = Doorward::open(config).await.unwrap();
    // Nothing is created until a file is stored.
    assert!(!dir.path().join("doorward-files").exists());
    dw.files().put("x/y.txt", "z", None).await.unwrap();
    assert_eq!(
        std::fs::read(dir.path().join("doorward-files/x/y.txt")).unwrap(),
        b"z"
    );
}

#[tokio::test]
async fn bad_files_urls_fail_at_open() {
    for url in ["ftp://x", "file://", "s3://bucket/with/prefix"] {
        let err = Doorward::open(config(url.into())).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::ConfigError, "{url}");
    }
}

#[cfg(feature = "s3")]
#[tokio::test]
async fn s3_errors_name_no_secret() {
    let Some((endpoint, _)) = services::s3_bucket().await else {
        return;
    };
    let config = Config {
        files_s3_endpoint: Some(endpoint),
        files_s3_region: Some("us-east-1".into()),
        files_s3_access_key_id: Some("AKIDSECRETLOOKING".into()),
        files_s3_secret_access_key: Some("very-secret-key-value".into()),
        files_s3_allow_http: true,
        ..config("s3://no-such-bucket-for-doorward".into())
    };
    let dw = Doorward::open(config).await.unwrap();
    let err = dw.files().put("a", "x", None).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::StorageError);
    let text = format!("{err} {err:?} {dw:?}");
    assert!(!text.contains("very-secret-key-value"), "{text}");
}
