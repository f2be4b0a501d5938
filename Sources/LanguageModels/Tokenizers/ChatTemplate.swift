/// The ChatML template of SmolLM2-Instruct (its GGUF `tokenizer.chat_template`):
/// `<|im_start|>role\ncontent<|im_end|>\n` per message, a default system message when the
/// conversation has none, and `<|im_start|>assistant\n` to ask for the reply.
public struct ChatTemplate: Sendable {
    /// One turn of a conversation.
    public struct Message: Sendable {
        public let role: String
        public let content: String
        public init(role: String, content: String) {
            self.role = role
            self.content = content
        }
    }

    public let defaultSystem: String

    public init(defaultSystem: String = "You are a helpful AI assistant named SmolLM, trained by Hugging Face") {
        self.defaultSystem = defaultSystem
    }

    public func render(_ messages: [Message], addGenerationPrompt: Bool = true) -> String {
        var text = ""
        if messages.first?.role != "system" { text += turn("system", defaultSystem) }
        for message in messages { text += turn(message.role, message.content) }
        if addGenerationPrompt { text += "<|im_start|>assistant\n" }
        return text
    }

    /// A one-question conversation.
    public func prompt(user: String) -> String { render([Message(role: "user", content: user)]) }

    private func turn(_ role: String, _ content: String) -> String { "<|im_start|>\(role)\n\(content)<|im_end|>\n" }
}
