//! Just enough Markdown to show the language reference (`docs/scenario-language.md`) inside the page:
//! headings, paragraphs, lists, tables, fenced code, and inline code, bold and links (shown as text).
//!
//! [`blocks`] is a pure parser tested natively; [`render`] turns its blocks into HTML.

use yew::prelude::*;

/// One block of a Markdown document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Block {
    Heading { level: u8, text: String },
    Paragraph(String),
    List(Vec<String>),
    Table { header: Vec<String>, rows: Vec<Vec<String>> },
    Code(String),
}

fn cells(line: &str) -> Vec<String> {
    let line = line.trim().trim_start_matches('|').trim_end_matches('|');
    // A `|` inside backticks belongs to the code, not to the table.
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut in_code = false;
    for character in line.chars() {
        match character {
            '`' => {
                in_code = !in_code;
                current.push(character);
            }
            '|' if !in_code => cells.push(std::mem::take(&mut current).trim().to_string()),
            '\\' if !in_code => {}
            _ => current.push(character),
        }
    }
    cells.push(current.trim().to_string());
    cells
}

fn list_item(line: &str) -> Option<&str> {
    let trimmed = line.trim_start();
    if let Some(rest) = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
        return Some(rest);
    }
    let digits = trimmed.chars().take_while(char::is_ascii_digit).count();
    (digits > 0).then(|| trimmed[digits..].strip_prefix(". ")).flatten()
}

/// Splits a document into blocks.
pub fn blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            continue;
        }
        if trimmed.starts_with("```") {
            let mut code = Vec::new();
            for line in lines.by_ref() {
                if line.trim().starts_with("```") {
                    break;
                }
                code.push(line);
            }
            blocks.push(Block::Code(code.join("\n")));
        } else if let Some(heading) = trimmed.strip_prefix('#') {
            let level = 1 + heading.chars().take_while(|character| *character == '#').count() as u8;
            blocks
                .push(Block::Heading { level: level.min(6), text: heading.trim_start_matches('#').trim().to_string() });
        } else if trimmed.starts_with('|') {
            let header = cells(trimmed);
            let mut rows = Vec::new();
            while let Some(next) = lines.peek().map(|line| line.trim()) {
                if !next.starts_with('|') {
                    break;
                }
                let row = cells(next);
                lines.next();
                if !row.iter().all(|cell| cell.chars().all(|character| matches!(character, '-' | ':' | ' '))) {
                    rows.push(row);
                }
            }
            blocks.push(Block::Table { header, rows });
        } else if let Some(first) = list_item(line) {
            let mut items = vec![first.to_string()];
            while let Some(next) = lines.peek() {
                if next.trim().is_empty() {
                    break;
                }
                if let Some(item) = list_item(next) {
                    items.push(item.to_string());
                } else if let Some(last) = items.last_mut() {
                    last.push(' ');
                    last.push_str(next.trim());
                }
                lines.next();
            }
            blocks.push(Block::List(items));
        } else {
            let mut paragraph = trimmed.to_string();
            while let Some(next) = lines.peek().map(|line| line.trim()) {
                if next.is_empty()
                    || next.starts_with('#')
                    || next.starts_with("```")
                    || next.starts_with('|')
                    || list_item(next).is_some()
                {
                    break;
                }
                paragraph.push(' ');
                paragraph.push_str(next);
                lines.next();
            }
            blocks.push(Block::Paragraph(paragraph));
        }
    }
    blocks
}

/// Inline Markdown: `code`, **bold**, and [links](#somewhere) kept as their text.
pub fn inline(text: &str) -> Html {
    let mut parts: Vec<Html> = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(character) = rest.chars().next() {
        if character == '`' {
            if let Some(end) = rest[1..].find('`') {
                parts.push(html! { {std::mem::take(&mut plain)} });
                parts.push(html! { <code>{rest[1..1 + end].to_string()}</code> });
                rest = &rest[end + 2..];
                continue;
            }
        } else if rest.starts_with("**") {
            if let Some(end) = rest[2..].find("**") {
                parts.push(html! { {std::mem::take(&mut plain)} });
                parts.push(html! { <strong>{inline(&rest[2..2 + end])}</strong> });
                rest = &rest[end + 4..];
                continue;
            }
        } else if character == '[' {
            if let Some(close) = rest.find("](") {
                if let Some(end) = rest[close..].find(')') {
                    plain.push_str(&rest[1..close]);
                    rest = &rest[close + end + 1..];
                    continue;
                }
            }
        }
        plain.push(character);
        rest = &rest[character.len_utf8()..];
    }
    parts.push(html! { {plain} });
    html! { <>{ for parts }</> }
}

fn heading(level: u8, text: &str) -> Html {
    // ASCII case only: Unicode's case tables would double the cost of this line in the bundle.
    let id = text
        .chars()
        .map(|character| if character.is_ascii_alphanumeric() { character.to_ascii_lowercase() } else { '-' })
        .collect::<String>();
    let content = inline(text);
    match level {
        1 => html! { <h2 id={id}>{content}</h2> },
        2 => html! { <h3 id={id}>{content}</h3> },
        _ => html! { <h4 id={id}>{content}</h4> },
    }
}

/// The document as HTML (its headings one level down, under the dialog's own title).
pub fn render(text: &str) -> Html {
    html! {
        <div class="markdown">
            { for blocks(text).into_iter().map(|block| match block {
                Block::Heading { level, text } => heading(level, &text),
                Block::Paragraph(text) => html! { <p>{inline(&text)}</p> },
                Block::List(items) => html! { <ul>{ for items.iter().map(|item| html! { <li>{inline(item)}</li> }) }</ul> },
                Block::Code(code) => html! { <pre><code>{code}</code></pre> },
                Block::Table { header, rows } => html! {
                    <div class="table-scroll">
                        <table>
                            <thead><tr>{ for header.iter().map(|cell| html! { <th>{inline(cell)}</th> }) }</tr></thead>
                            <tbody>
                                { for rows.iter().map(|row| html! { <tr>{ for row.iter().map(|cell| html! { <td>{inline(cell)}</td> }) }</tr> }) }
                            </tbody>
                        </table>
                    </div>
                },
            }) }
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_paragraphs_lists_tables_and_code_are_told_apart() {
        let text = "# Title\n\nOne line\nand its continuation.\n\n- first\n- second\n  goes on\n\n| a | b |\n| --- | --- |\n| `x|y` | 2 |\n\n```\nprocess a {\n}\n```\n### Small\n";
        assert_eq!(
            blocks(text),
            vec![
                Block::Heading { level: 1, text: "Title".into() },
                Block::Paragraph("One line and its continuation.".into()),
                Block::List(vec!["first".into(), "second goes on".into()]),
                Block::Table { header: vec!["a".into(), "b".into()], rows: vec![vec!["`x|y`".into(), "2".into()]] },
                Block::Code("process a {\n}".into()),
                Block::Heading { level: 3, text: "Small".into() },
            ]
        );
    }

    #[test]
    fn the_language_reference_reads_as_blocks() {
        let blocks = blocks(include_str!("../../../docs/scenario-language.md"));
        assert!(blocks.iter().any(|block| matches!(block, Block::Code(_))));
        assert!(blocks.iter().any(|block| matches!(block, Block::Table { .. })));
        assert!(matches!(&blocks[0], Block::Heading { level: 1, .. }));
    }
}
