/// A labeled example shown to a classifier as part of its prompt: rendered into a
/// language model's prefix (few-shot), or averaged into a sentence encoder's class vector.
public struct Demonstration: Sendable, Hashable {
    public let text: String
    /// Index into the prompt's verbalizers (classes).
    public let label: Int

    public init(text: String, label: Int) {
        self.text = text
        self.label = label
    }
}
