// The studio's musical clock: positions in beats, counted from bar 0.
extension Studio {
    /// Beat number of beat `beat` (fractional) of bar `bar`.
    func beat(bar: Int, _ beat: Double) -> Double { Double(bar * beatsPerBar) + beat }

    /// Beat position of eighth note `eighth` (0-based) counted from the start of the bar, with the clip's swing.
    func eighth(bar: Int, _ eighth: Int) -> Double {
        beat(bar: bar, Double(eighth / 2) + (eighth % 2 == 0 ? 0 : swing))
    }
}
