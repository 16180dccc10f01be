/// Reading the documentation the tests run as written.
enum Markdown {
    /// Every fenced block of that language (```sh, ```yaml), in order, without its fences.
    static func codeBlocks(_ language: String, in text: String) -> [String] {
        var blocks: [String] = []
        var rest = text.startIndex..<text.endIndex
        while let start = text.range(of: "```\(language)\n", range: rest),
              let end = text.range(of: "```", range: start.upperBound..<text.endIndex) {
            blocks.append(String(text[start.upperBound..<end.lowerBound]))
            rest = end.upperBound..<text.endIndex
        }
        return blocks
    }
}
