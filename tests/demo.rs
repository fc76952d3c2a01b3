//! Demo rendering: GIFs decoded back, determinism, the committed demo.gif is
//! fresh, asciicasts parse and replay to the same screen.
#![allow(clippy::unwrap_used)]

use lockscope::render::{
    DEFAULT_BG, DEMO_GIF_COMMAND, DemoOptions, DemoStats, render_cast, render_gif, rgb,
};
use ratatui::style::Color;

fn small(scenario: &str, seconds: f64) -> DemoOptions {
    DemoOptions {
        scenario: scenario.into(),
        cols: 80,
        rows: 24,
        seconds,
        color: true,
    }
}

fn gif(opts: &DemoOptions) -> (Vec<u8>, DemoStats) {
    let mut out = Vec::new();
    let stats = render_gif(opts, &mut out).unwrap();
    (out, stats)
}

/// A decoded GIF: its size, and each frame's delay with the whole image after it.
struct Decoded {
    width: usize,
    height: usize,
    frames: Vec<(u16, Vec<[u8; 3]>)>,
    repeat: gif::Repeat,
}

fn decode(bytes: &[u8]) -> Decoded {
    let mut options = gif::DecodeOptions::new();
    options.set_color_output(gif::ColorOutput::RGBA);
    let mut decoder = options.read_info(bytes).unwrap();
    let (width, height) = (usize::from(decoder.width()), usize::from(decoder.height()));
    let mut canvas = vec![[0u8; 3]; width * height];
    let mut frames = Vec::new();
    while let Some(frame) = decoder.read_next_frame().unwrap() {
        assert_eq!(frame.dispose, gif::DisposalMethod::Keep);
        let (left, top) = (usize::from(frame.left), usize::from(frame.top));
        let fw = usize::from(frame.width);
        for (i, px) in frame.buffer.chunks_exact(4).enumerate() {
            if px[3] != 0 {
                canvas[(top + i / fw) * width + left + i % fw] = [px[0], px[1], px[2]];
            }
        }
        frames.push((frame.delay, canvas.clone()));
    }
    Decoded {
        width,
        height,
        frames,
        repeat: decoder.repeat(),
    }
}

fn count(image: &[[u8; 3]], color: [u8; 3]) -> usize {
    image.iter().filter(|&&p| p == color).count()
}

#[test]
fn a_gif_decodes_back_with_its_size_frames_and_the_deadlock_in_red() {
    let opts = small("abba", 6.0);
    let (bytes, stats) = gif(&opts);
    assert_eq!(stats.bytes, bytes.len() as u64);
    assert_eq!((stats.cell_width, stats.cell_height), (9, 18));
    assert_eq!((stats.width, stats.height), (80 * 9, 24 * 18));
    assert!(stats.deadlock && stats.events > 0, "{stats:?}");
    let gif = decode(&bytes);
    assert_eq!((gif.width, gif.height), (720, 432));
    assert_eq!(gif.frames.len(), stats.frames);
    assert!(stats.frames > 10, "{stats:?}");
    assert_eq!(gif.repeat, gif::Repeat::Infinite);
    let total: u32 = gif.frames.iter().map(|(d, _)| u32::from(*d)).sum();
    assert_eq!(total, 600, "the delays add up to --seconds");
    let red = rgb(Color::Red, DEFAULT_BG);
    let first = count(&gif.frames[0].1, red);
    let last = count(&gif.frames.last().unwrap().1, red);
    // Before: only the legend's "▒ waiting". After: lanes, names, the cycle.
    assert!(
        last > 5 * first.max(1),
        "red pixels: first {first}, last {last}"
    );
    let bg = count(&gif.frames[0].1, DEFAULT_BG);
    assert!(bg > gif.width * gif.height / 3, "mostly background");
}

#[test]
fn the_same_options_give_the_same_bytes() {
    let opts = DemoOptions {
        cols: 60,
        rows: 15,
        ..small("philosophers", 3.0)
    };
    let (a, _) = gif(&opts);
    let (b, _) = gif(&opts);
    assert!(a == b, "two renders differ");
    let mut c1 = Vec::new();
    let mut c2 = Vec::new();
    render_cast(&opts, &mut c1).unwrap();
    render_cast(&opts, &mut c2).unwrap();
    assert!(c1 == c2, "two casts differ");
    let (mono, _) = gif(&DemoOptions {
        color: false,
        ..opts
    });
    assert!(mono != a, "colour makes a difference");
}

/// Any change to what the screen shows changes demo.gif: regenerate it then.
#[test]
fn the_committed_demo_gif_is_fresh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo.gif");
    let (fresh, stats) = gif(&DemoOptions::default());
    if std::env::var_os("LOCKSCOPE_WRITE_DEMO").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "demo.gif is stale ({} bytes on disk, {} rendered): run `{DEMO_GIF_COMMAND}` \
         (or `LOCKSCOPE_WRITE_DEMO=1 cargo test --test demo`)",
        committed.len(),
        fresh.len()
    );
    assert!(stats.deadlock);
    assert!(stats.bytes < 2_000_000, "{stats:?}");
}

#[test]
fn a_cast_parses_and_replays_to_the_screen() {
    let opts = small("philosophers", 8.0);
    let mut out = Vec::new();
    let stats = render_cast(&opts, &mut out).unwrap();
    assert_eq!(stats.bytes, out.len() as u64);
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    let header: serde_json::Value = serde_json::from_str(lines.next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert_eq!(header["width"], 80);
    assert_eq!(header["height"], 24);
    assert!(
        header.get("timestamp").is_none(),
        "no wall clock in the file"
    );
    let size = |n| std::num::NonZeroU16::new(n).unwrap();
    let mut screen = vt100::Parser::new(size(24), size(80), 0);
    let mut last = 0.0;
    let mut events = 0;
    for line in lines {
        let event: serde_json::Value = serde_json::from_str(line).unwrap();
        let time = event[0].as_f64().unwrap();
        assert!(time >= last, "{time} after {last}");
        last = time;
        assert_eq!(event[1], "o");
        screen.process(event[2].as_str().unwrap().as_bytes());
        events += 1;
    }
    assert_eq!(events, stats.frames);
    assert_eq!(last, 8.0);
    let contents = screen.screen().contents();
    assert!(
        contents.contains("philosophers │ PAUSED │ DEADLOCK"),
        "{contents}"
    );
    assert!(contents.contains("key Enter"), "the caption: {contents}");
    assert!(contents.contains("DEADLOCK"), "{contents}");
    assert!(contents.contains("fork 4"), "{contents}");
}

#[test]
fn unknown_scenarios_and_bad_sizes_are_errors() {
    let mut out = Vec::new();
    let err = render_gif(&small("no-such-scenario", 1.0), &mut out).unwrap_err();
    assert!(format!("{err:#}").contains("no-such-scenario"));
    let tiny = DemoOptions {
        cols: 10,
        ..small("abba", 1.0)
    };
    assert!(render_cast(&tiny, &mut out).is_err());
}

/// Writes frames of the default demo (or of `LOCKSCOPE_DEMO_SCENARIO`) as PNGs
/// for a human to look at:
/// `LOCKSCOPE_DEMO_PNG=/tmp/frames cargo test --test demo -- --ignored`.
#[test]
#[ignore = "writes PNG files for inspection"]
fn write_frames_as_png() {
    let Some(dir) = std::env::var_os("LOCKSCOPE_DEMO_PNG") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    let scenario = std::env::var("LOCKSCOPE_DEMO_SCENARIO");
    let opts = DemoOptions {
        scenario: scenario.unwrap_or_else(|_| DemoOptions::default().scenario),
        ..DemoOptions::default()
    };
    let started = std::time::Instant::now();
    let (bytes, stats) = gif(&opts);
    eprintln!("{stats:?} in {:?}", started.elapsed());
    let gif = decode(&bytes);
    let mut at = 0u32;
    for (i, (delay, image)) in gif.frames.iter().enumerate() {
        // Frames that stay a while: the ones a viewer sees.
        if *delay >= 50 || i == 0 || i % 10 == 0 {
            let name = dir.join(format!("frame-{i:03}-{at:05}cs.png"));
            std::fs::write(name, png(gif.width, gif.height, image)).unwrap();
        }
        at += u32::from(*delay);
    }
}

/// A minimal PNG: RGB, no filter, stored (uncompressed) deflate blocks.
fn png(width: usize, height: usize, image: &[[u8; 3]]) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let crc = crc32(&out[start..]);
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut raw = Vec::with_capacity((width * 3 + 1) * height);
    for row in image.chunks_exact(width) {
        raw.push(0);
        raw.extend(row.iter().flatten());
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(width as u32).to_be_bytes());
    ihdr.extend_from_slice(&(height as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib);
    chunk(&mut out, b"IEND", &[]);
    out
}
