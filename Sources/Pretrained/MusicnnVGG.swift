public import Net
public import Pipeline
public import TensorBundle

/// musicnn's `vgg` network ("MSD_vgg": trained on the Million Song Dataset's 50 most common tags; musicnn 0.1.0,
/// Jordi Pons, ISC licence) in GenreKit terms: the tag names, the front end, the model spec, and the mapping of
/// its TensorFlow variables onto GenreKit's state dictionary.
///
/// TensorFlow runs it in NHWC (`[N, time 187, mel 96, C]`); GenreKit in NCHW with per-sample input
/// `[1, mels 96, frames 187]`, so TensorFlow's time axis is GenreKit's width and its mel axis GenreKit's height.
/// The mapping (see ``stateDictionary(from:filters:tags:)``):
/// - `batch_normalization/{gamma,beta,moving_mean,moving_variance}` -> `"0.bn.{weight,bias,running_mean,running_var}"`;
/// - `<l>CNN/kernel` `[3 time, 3 mel, in, out]` -> `"<i>.conv.weight"` `[out, in, 3 mel, 3 time]` (i = 1, 6, 11, 16,
///   21 for l = 1...5), `<l>CNN/bias` -> `"<i>.conv.bias"`;
/// - `batch_normalization_<l>/...` -> `"<i + 2>.bn...."`;
/// - `dense/kernel` `[256, 50]` with rows in TensorFlow's flatten order (time, mel, channel: `t * 128 + c`) ->
///   `"27.linear.weight"` `[50, 256]` with columns in GenreKit's order (channel, mel, time: `c * 2 + t`);
///   `dense/bias` -> `"27.linear.bias"`.
/// Adam slots, `beta1_power`, `beta2_power` and `global_step` in the checkpoint are ignored.
public enum MusicnnVGG {
    /// The 50 tags, in the network's output order (musicnn/configuration.py `MSD_LABELS`).
    public static let msdTags: [String] = [
        "rock", "pop", "alternative", "indie", "electronic", "female vocalists", "dance", "00s", "alternative rock",
        "jazz", "beautiful", "metal", "chillout", "male vocalists", "classic rock", "soul", "indie rock", "Mellow",
        "electronica", "80s", "folk", "90s", "chill", "instrumental", "punk", "oldies", "blues", "hard rock", "ambient",
        "acoustic", "experimental", "female vocalist", "guitar", "Hip-Hop", "70s", "party", "country",
        "easy listening", "sexy", "catchy", "funk", "electro", "heavy metal", "Progressive rock", "60s", "rnb",
        "indie pop", "sad", "House", "happy",
    ]
    /// Filters per convolution of MSD_vgg.
    public static let msdFilters = 128
    /// Per-sample input `[C, H, W]`: 1 channel, 96 mel bands, 187 frames (3 s at 16 kHz, hop 256).
    public static let inputShape = [1, 96, 187]
    /// Time positions (GenreKit width) and mel positions (height) of the last pooled map (`pool5`).
    static let pool5Time = 2, pool5Mel = 1
    /// Spec indices of the five convolutions (each followed by ReLU, then batch norm at index + 2).
    static let convIndices = [1, 6, 11, 16, 21]
    /// Spec index of the dense (tag) layer.
    static let denseIndex = 27
    /// Where the weights come from, as recorded in imported checkpoints.
    public static let provenance = "musicnn-0.1.0 MSD_vgg"
    /// The licence of musicnn's code and weights.
    public static let licence = "ISC"

    /// The network: ``ModelSpec/musicnnVGG(tags:filters:inputShape:)``.
    public static func modelSpec(filters: Int = msdFilters, tags: Int = msdTags.count) -> ModelSpec {
        ModelSpec.musicnnVGG(tags: tags, filters: filters, inputShape: inputShape)
    }

    /// musicnn's front end (musicnn/configuration.py, extractor.py `batch_data`; the same as
    /// `pipelines/musicnn.toml`): 16 kHz, n_fft 512, hop 256, 96 mel bands (librosa's defaults: Slaney scale and
    /// norm, 0 Hz to 8 kHz, power 2), then `log10(1 + 10000 mel)` (`[db] kind = log1p`, `scale = 10000`), not
    /// normalised (`[normalise] kind = none`: the network's first layer is a batch norm of its own). Clips keep the
    /// default 30 s; the network reads 187-frame (3 s) windows.
    public static func frontEnd() -> PipelineConfiguration {
        var configuration = PipelineConfiguration()
        configuration.name = "musicnn"
        configuration.audio.sampleRate = 16000
        configuration.stft.nFFT = 512
        configuration.stft.hopLength = 256
        configuration.mel.nMels = 96
        configuration.mel.fMin = 0
        configuration.mel.fMax = nil
        configuration.mel.scale = .slaney
        configuration.mel.norm = .slaney
        configuration.db.kind = .log1p
        configuration.db.scale = 10000
        configuration.normalise.kind = .none
        return configuration
    }

    /// A TensorFlow tensor the network needs: its name and shape.
    struct Needed {
        let name: String
        let shape: [Int]
    }

    /// Every TensorFlow variable the network needs, with its shape, in network order.
    static func neededTensors(filters: Int, tags: Int) -> [Needed] {
        func bn(_ prefix: String, _ channels: Int) -> [Needed] {
            ["gamma", "beta", "moving_mean", "moving_variance"].map { Needed(name: "\(prefix)/\($0)", shape: [channels]) }
        }
        var needed = bn("batch_normalization", 1)
        for layer in 1...5 {
            needed.append(Needed(name: "\(layer)CNN/kernel", shape: [3, 3, layer == 1 ? 1 : filters, filters]))
            needed.append(Needed(name: "\(layer)CNN/bias", shape: [filters]))
            needed += bn("batch_normalization_\(layer)", filters)
        }
        needed.append(Needed(name: "dense/kernel", shape: [pool5Time * pool5Mel * filters, tags]))
        needed.append(Needed(name: "dense/bias", shape: [tags]))
        return needed
    }

    /// GenreKit's state dictionary for ``modelSpec(filters:tags:)`` from the TensorFlow checkpoint `bundle`, after
    /// checking that every needed tensor exists with the expected shape (an error names the first one that does
    /// not). `filters` and `tags` are MSD_vgg's by default; the tests use a small network of the same design.
    public static func stateDictionary(
        from bundle: TensorBundle, filters: Int = msdFilters, tags: Int = msdTags.count
    ) throws(PretrainedError) -> [String: Tensor] {
        var tf = [String: [Float]]()
        for needed in neededTensors(filters: filters, tags: tags) {
            let entry: TensorBundleEntry
            do {
                entry = try bundle.entry(needed.name)
            } catch {
                throw .missingTensor(source: bundle.source, name: needed.name)
            }
            guard entry.shape == needed.shape else {
                throw .tensorShape(source: bundle.source, name: needed.name, expected: needed.shape, found: entry.shape)
            }
            do {
                tf[needed.name] = try bundle.floats(needed.name)
            } catch {
                throw .bundle(error)
            }
        }
        var state = [String: Tensor]()
        func batchNorm(_ prefix: String, index: Int) {
            let channels = tf[prefix + "/gamma"]!.count
            for (role, name) in [("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"), ("running_var", "moving_variance")] {
                state["\(index).bn.\(role)"] = Tensor(shape: [channels], scalars: tf["\(prefix)/\(name)"]!)
            }
        }
        batchNorm("batch_normalization", index: 0)
        for (layer, index) in zip(1...5, convIndices) {
            let inChannels = layer == 1 ? 1 : filters
            state["\(index).conv.weight"] = Tensor(
                shape: [filters, inChannels, 3, 3],
                scalars: convolutionKernel(tf["\(layer)CNN/kernel"]!, inChannels: inChannels, outChannels: filters))
            state["\(index).conv.bias"] = Tensor(shape: [filters], scalars: tf["\(layer)CNN/bias"]!)
            batchNorm("batch_normalization_\(layer)", index: index + 2)
        }
        state["\(denseIndex).linear.weight"] = Tensor(
            shape: [tags, pool5Time * pool5Mel * filters],
            scalars: denseKernel(tf["dense/kernel"]!, channels: filters, tags: tags))
        state["\(denseIndex).linear.bias"] = Tensor(shape: [tags], scalars: tf["dense/bias"]!)
        return state
    }

    /// TensorFlow's `[3 time, 3 mel, in, out]` kernel as GenreKit's `[out, in, 3 mel (height), 3 time (width)]`:
    /// `ours[o][i][m][t] = tf[t][m][i][o]`.
    static func convolutionKernel(_ tf: [Float], inChannels: Int, outChannels: Int) -> [Float] {
        var ours = [Float](repeating: 0, count: tf.count)
        for o in 0..<outChannels {
            for i in 0..<inChannels {
                for m in 0..<3 {
                    for t in 0..<3 {
                        ours[((o * inChannels + i) * 3 + m) * 3 + t] = tf[((t * 3 + m) * inChannels + i) * outChannels + o]
                    }
                }
            }
        }
        return ours
    }

    /// TensorFlow's dense kernel `[features, tags]` (features in NHWC flatten order: time, mel, channel) as
    /// GenreKit's linear weight `[tags, features]` (features in NCHW flatten order: channel, mel, time).
    static func denseKernel(_ tf: [Float], channels: Int, tags: Int) -> [Float] {
        let features = pool5Time * pool5Mel * channels
        var ours = [Float](repeating: 0, count: tf.count)
        for k in 0..<tags {
            for c in 0..<channels {
                for m in 0..<pool5Mel {
                    for t in 0..<pool5Time {
                        let tfRow = (t * pool5Mel + m) * channels + c
                        ours[k * features + (c * pool5Mel + m) * pool5Time + t] = tf[tfRow * tags + k]
                    }
                }
            }
        }
        return ours
    }

    /// `pool5` features in TensorFlow's NHWC flatten order (time, mel, channel) reordered to GenreKit's (channel,
    /// mel, time): the order of the features the dense layer sees.
    public static func pool5FromTensorFlowOrder(_ tf: [Float], channels: Int) -> [Float] {
        var ours = [Float](repeating: 0, count: tf.count)
        for c in 0..<channels {
            for m in 0..<pool5Mel {
                for t in 0..<pool5Time { ours[(c * pool5Mel + m) * pool5Time + t] = tf[(t * pool5Mel + m) * channels + c] }
            }
        }
        return ours
    }
}
