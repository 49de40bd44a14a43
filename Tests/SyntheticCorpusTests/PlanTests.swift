import AudioIO
import Testing
import SyntheticCorpus

@Suite struct PlanTests {
    @Test func genresAreTheTenGTZANGenresSorted() {
        #expect(SyntheticCorpus.genres == ["blues", "classical", "country", "disco", "hiphop", "jazz", "metal", "pop", "reggae", "rock"])
        #expect(SyntheticCorpus.genres == SyntheticCorpus.genres.sorted())
    }

    @Test func planListsEveryClipWithGTZANStylePaths() throws {
        let options = SyntheticCorpus.Options(clipsPerGenre: 3, seconds: 1, seed: 5)
        let plans = SyntheticCorpus.plan(options)
        #expect(plans.count == 30)
        for (genre, name) in SyntheticCorpus.genres.enumerated() {
            let clips = plans.filter { $0.genre == genre }
            #expect(clips.map(\.index) == [0, 1, 2])
            #expect(clips.map(\.relativePath) == ["\(name)/\(name).00000.au", "\(name)/\(name).00001.wav", "\(name)/\(name).00002.au"])
            #expect(clips.allSatisfy { $0.genreName == name })
        }
        let hundredth = SyntheticCorpus.plan(SyntheticCorpus.Options(clipsPerGenre: 101)).first { $0.genre == 9 && $0.index == 100 }
        #expect(try #require(hundredth).relativePath == "rock/rock.00100.au")
    }

    @Test func formatsAreMixedAUMonoAndWAVStereo() {
        let plans = SyntheticCorpus.plan(SyntheticCorpus.Options(clipsPerGenre: 2))
        let au = plans.filter { $0.relativePath.hasSuffix(".au") }
        let wav = plans.filter { $0.relativePath.hasSuffix(".wav") }
        #expect(au.count == 10 && wav.count == 10)
        #expect(au.allSatisfy { $0.format == .auPCM16 && $0.sampleRate == 22_050 && $0.channels == 1 })
        #expect(wav.allSatisfy { $0.format == .wavPCM16 && $0.sampleRate == 44_100 && $0.channels == 2 })
    }

    @Test func planIsDeterministicAndIndependentOfSeedAndLength() {
        let a = SyntheticCorpus.plan(SyntheticCorpus.Options(clipsPerGenre: 4, seconds: 30, seed: 1))
        let b = SyntheticCorpus.plan(SyntheticCorpus.Options(clipsPerGenre: 4, seconds: 30, seed: 1))
        let c = SyntheticCorpus.plan(SyntheticCorpus.Options(clipsPerGenre: 4, seconds: 2, seed: 9))
        #expect(a == b)
        #expect(a == c)
        #expect(SyntheticCorpus.plan(SyntheticCorpus.Options(clipsPerGenre: 0)).isEmpty)
    }

    @Test func defaultOptionsAreTenClipsOfThirtySeconds() {
        let options = SyntheticCorpus.Options()
        #expect(options.clipsPerGenre == 10 && options.seconds == 30 && options.seed == 0 && options.workers == nil)
    }
}
