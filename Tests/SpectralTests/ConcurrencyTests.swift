import Testing
@testable import Spectral

@Suite struct ConcurrencyTests {
    @Test func extractorsSharingOnePlanInParallelGiveIdenticalResults() async {
        let parameters = LogMelParameters()
        let plan = FFTPlan(size: parameters.nFFT, effort: .estimate)
        let bank = MelFilterbank(parameters: parameters)
        var noise = TestNoise(seed: 42)
        let clips = (0..<4).map { noise.samples(22050 + 123 * $0) }
        var serial = LogMelSpectrogram(parameters: parameters, plan: plan, filterbank: bank)
        let expected = clips.map { serial.compute($0) }

        let results = await withTaskGroup(of: (Int, [[Float]]).self) { group in
            for worker in 0..<2 {
                group.addTask {
                    var extractor = LogMelSpectrogram(parameters: parameters, plan: plan, filterbank: bank)
                    var outputs = [[Float]]()
                    for round in 0..<6 { outputs.append(extractor.compute(clips[(worker + round) % clips.count])) }
                    return (worker, outputs)
                }
            }
            var all = [(Int, [[Float]])]()
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 2)
        for (worker, outputs) in results {
            for (round, output) in outputs.enumerated() {
                #expect(output == expected[(worker + round) % clips.count], "worker \(worker) round \(round)")
            }
        }
    }

    @Test func planningFromManyTasksAtOnceIsSafe() async {
        await withTaskGroup(of: Int.self) { group in
            for size in [64, 128, 256, 96, 200, 48] {
                group.addTask { FFTPlan(size: size, effort: .measure).size }
            }
            var sizes = [Int]()
            for await size in group { sizes.append(size) }
            #expect(sizes.sorted() == [48, 64, 96, 128, 200, 256])
        }
        #expect(FFTPlan.shared(size: 512, effort: .estimate) === FFTPlan.shared(size: 512, effort: .estimate))
    }
}

@Suite struct WisdomTests {
    @Test func wisdomRoundTripsAndGarbageIsRejected() throws {
        _ = FFTPlan(size: 64, effort: .measure)
        let wisdom = FFTPlan.exportWisdom()
        #expect(wisdom.contains("fftw"))
        try FFTPlan.importWisdom(wisdom)
        do {
            try FFTPlan.importWisdom("not wisdom")
            Issue.record("garbage accepted")
        } catch {
            #expect(error.function == "fftwf_import_wisdom_from_string")
            #expect(error.description.hasPrefix("fftwf_import_wisdom_from_string: returned 0 for"))
        }
    }
}
