extension Duration {
    /// The duration in seconds as a Double (for reports and logs; never for control flow in tests).
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) * 1e-18
    }
}
