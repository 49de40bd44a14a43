import Testing
import SyntheticCorpus

/// The genres must be told apart by simple features on short excerpts, as a CNN on log-mel spectrograms will
/// need to: nearest-centroid classification of 2 s clips (6 per genre, leave-one-out) on band energies, their
/// temporal modulation and the onset rate.
@Suite struct LearnabilityTests {
    static let options = SyntheticCorpus.Options(clipsPerGenre: 6, seconds: 2, seed: 7)
    static let plans = SyntheticCorpus.plan(options)
    /// Features of every planned clip (computed once, shared by the tests).
    static let features: [[Double]] = plans.map { plan in
        genreFeatures(downmix(SyntheticCorpus.render(plan, options: options), channels: plan.channels),
                      sampleRate: plan.sampleRate)
    }

    @Test func genresAreSeparableByNearestCentroidOnShortClips() {
        let accuracy = leaveOneOutAccuracy(features: Self.features, labels: Self.plans.map(\.genre))
        print("SyntheticCorpus learnability: leave-one-out nearest-centroid accuracy \(accuracy) on \(Self.plans.count) clips of 2 s")
        #expect(accuracy >= 0.8)
    }

    /// The same check must fail when the labels carry no information (guards against a feature or classifier
    /// bug that would make any corpus look learnable): label = (genre + clip index) mod 10 puts six different
    /// genres in every class.
    @Test func labelsUnrelatedToGenreAreNotLearnable() {
        let labels = Self.plans.map { ($0.genre + $0.index) % 10 }
        let accuracy = leaveOneOutAccuracy(features: Self.features, labels: labels)
        #expect(accuracy < 0.4)
    }
}
