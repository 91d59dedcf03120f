pub fn summary(counts: &[u32]) -> String {
    let mut out = String::new();
    for (i, c) in counts.iter().enumerate() {
        let mut line = String::new();
        line.push_str(&format!("order {i}: {c} items"));
        out.push_str(&line);
        out.push('\n');
    }
    let label: Option<&str> = None;
    out.push_str(&label.map(|l| l.to_string()).unwrap_or(format!("{} orders", counts.len())));
    out
}
