use super::*;

/// A disk that refuses every write.
struct Full;

impl Write for Full {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("No space left on device"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A closed queue holding `lines`.
fn queued(lines: &[&str]) -> Shared {
    let shared = Shared::default();
    for l in lines {
        shared.push(l.to_string());
    }
    drop(shared.close());
    shared
}

fn write(shared: &Shared, out: impl Write) -> Vec<String> {
    let mut said = Vec::new();
    shared.write_all(out, &mut Trouble::new("/audit.log".into()), |m| {
        said.push(m)
    });
    assert!(shared.lock().done);
    said
}

#[test]
fn lines_are_appended_in_order() {
    let mut out = Vec::new();
    let said = write(&queued(&["one\n", "two\n", "three\n"]), &mut out);
    assert_eq!(out, b"one\ntwo\nthree\n");
    assert!(said.is_empty(), "{said:?}");
}

#[test]
fn a_full_queue_drops_and_counts_instead_of_waiting() {
    let shared = Shared::default();
    for n in 0..QUEUE + 3 {
        shared.push(format!("{n}\n"));
    }
    assert_eq!(shared.lock().lines.len(), QUEUE);
    assert_eq!(shared.lock().dropped, 3);
    drop(shared.close());
    shared.push("after close\n".into());
    let mut out = Vec::new();
    let said = write(&shared, &mut out);
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), QUEUE);
    assert_eq!(
        said,
        ["docker-agent: audit file /audit.log: 0 line(s) not written (), 4 dropped (queue full)"]
    );
}

#[test]
fn write_failures_are_reported_once_then_summed_up() {
    let shared = Arc::new(Shared::default());
    let writer = shared.clone();
    let said = std::thread::spawn(move || write(&writer, Full));
    for line in ["a\n", "b\n", "c\n"] {
        shared.push(line.into());
        // Each line on its own, so each failure is a chance to report.
        while !shared.lock().lines.is_empty() {
            std::thread::yield_now();
        }
    }
    drop(shared.close());
    let said = said.join().unwrap();
    let lost = |n| {
        format!(
            "docker-agent: audit file /audit.log: {n} line(s) not written (No space left on device), 0 dropped (queue full)"
        )
    };
    assert_eq!(
        said,
        [lost(1), lost(2)],
        "the first at once, the rest at the end"
    );
}

#[test]
fn reports_come_at_most_once_per_interval() {
    let mut t = Trouble::new("f".into());
    let t0 = Instant::now();
    assert_eq!(t.due(t0), None, "nothing to say");
    t.lost = 1;
    assert!(t.due(t0).is_some());
    t.lost = 1;
    assert_eq!(t.due(t0 + Duration::from_secs(1)), None);
    t.dropped = 2;
    let later = t.due(t0 + REPORT_EVERY).unwrap();
    assert!(
        later.contains("1 line(s) not written") && later.contains("2 dropped"),
        "{later}"
    );
    assert_eq!(t.due(t0 + REPORT_EVERY * 3), None, "counts start afresh");
}

#[test]
fn closing_waits_for_the_writer_and_dropping_ends_it() {
    let shared = Arc::new(Shared::default());
    let writer = shared.clone();
    let done = std::thread::spawn(move || write(&writer, std::io::sink()));
    let sink = FileSink(shared.clone());
    sink.push("x\n".into());
    sink.close();
    assert!(shared.lock().done, "close returns once the writer is done");
    assert!(done.join().unwrap().is_empty());
    let shared = Arc::new(Shared::default());
    let writer = shared.clone();
    let done = std::thread::spawn(move || write(&writer, std::io::sink()));
    drop(FileSink(shared));
    done.join().unwrap();
}
