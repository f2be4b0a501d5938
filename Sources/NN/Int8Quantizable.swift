import Tensor

/// A module whose linear layers can run their products in int8 once trained: weights
/// quantized per output channel, activations per row at run time (`Tensor.linear(int8:)`).
/// Quantizing is a step after training; a layer keeps its float weights for saving and for
/// `dropInt8()`, and training after quantizing must drop the int8 copy first.
public protocol Int8Quantizable: AnyObject {
    /// Quantizes the weights of every linear layer inside; later forward passes use int8.
    func quantizeToInt8() throws(TensorError)
    /// Returns to float32 products.
    func dropInt8()
}

extension Int8Quantizable {
    /// Quantizes each of `parts` (the linear layers and sub-modules that have them).
    static func quantizing(_ parts: [any Int8Quantizable]) throws(TensorError) {
        for part in parts { try part.quantizeToInt8() }
    }
}
