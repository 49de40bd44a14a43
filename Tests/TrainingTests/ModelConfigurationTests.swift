import Foundation
import Net
import Testing

@testable import Training

/// `[model] block` and `pool` choose the network; a configuration stored before they existed reads as what it was.
@Suite struct ModelConfigurationTests {
    @Test func blockAndPoolBuildTheVariantNetwork() throws {
        let c = try TrainingConfiguration.parse(toml: """
            [model]
            channels = [8, 16]
            kernel = 5
            dropout = 0.1
            crop_frames = 64
            block = "residual"
            pool = "average+max"
            """)
        #expect(c.model.block == .residual && c.model.pool == .averageMax)
        let spec = c.modelSpec(classes: 4, nMels: 32)
        #expect(spec == ModelSpec.genreCNN(classes: 4, inputShape: [1, 32, 64], channels: [8, 16], kernel: 5,
                                           block: .residual, pool: .averageMax, dropout: 0.1))
        #expect(spec.layers.contains(.residualBlock(outChannels: 16, kernel: 5)))
        #expect(spec.layers.contains(.globalAverageMaxPool))
        #expect(!spec.layers.contains { if case .conv2d = $0 { true } else { false } })
        #expect(try TrainingConfiguration.fromJSON(c.jsonText()) == c)
        // The plain, average-pooled spec is the one genre CNN of earlier versions, layer for layer.
        var plain = TrainingConfiguration()
        plain.model.block = .plain
        plain.model.pool = .average
        plain.model.dropout = 0.3
        #expect(plain.modelSpec(classes: 10, nMels: 128) == ModelSpec.genreCNN(classes: 10))
        plain.model.pool = .max
        #expect(plain.modelSpec(classes: 10, nMels: 128).layers.contains(.globalMaxPool))
    }

    @Test func badBlockOrPoolNamesTheKey() {
        for (toml, key) in [("[model]\nblock = \"dense\"\n", "model.block"), ("[model]\npool = \"median\"\n", "model.pool"),
                            ("[model]\nblock = \"residual\"\nkernel = 4\n", "model.kernel")] {
            #expect { _ = try TrainingConfiguration.parse(toml: toml, file: "t.toml") } throws: { error in
                let text = "\(error)"
                return text.contains(key) && text.contains("t.toml") && !text.contains("\n")
            }
        }
    }

    /// A checkpoint written before issue 9 stores no block, pool or balance: it meant plain blocks, average pooling
    /// and no balancing, whatever today's defaults are.
    @Test func storedConfigurationsWithoutTheNewKeysReadAsTheyWere() throws {
        var object = try JSONSerialization.jsonObject(with: Data(TrainingConfiguration().jsonText().utf8)) as! [String: Any]
        var model = object["model"] as! [String: Any]
        model["block"] = nil
        model["pool"] = nil
        object["model"] = model
        var train = object["train"] as! [String: Any]
        train["balance"] = nil
        object["train"] = train
        object["evaluate"] = nil
        let text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
        let read = try TrainingConfiguration.fromJSON(text)
        #expect(read.model.block == .plain && read.model.pool == .average && read.train.balance == .none)
        #expect(read.evaluate.windowHop == nil)
        #expect(read.model.channels == TrainingConfiguration().model.channels)
    }
}

/// `[train] mode`, `[model] init`, `[probe]` and `[finetune]`: decoding, defaults, validation, the shipped files.
@Suite struct TransferConfigurationTests {
    @Test func modesAndTheirSectionsDecode() throws {
        let c = try TrainingConfiguration.parse(toml: """
            [model]
            init = "models/x.h5"
            crop_frames = 187
            [train]
            mode = "finetune"
            [probe]
            c_grid = [0.01, 1, 10]
            max_iterations = 50
            [finetune]
            head_epochs = 2
            body_learning_rate_scale = 0.05
            freeze_batch_norm = false
            head_init = "random"
            body_dropout = false
            """)
        #expect(c.model.initCheckpoint == "models/x.h5" && c.train.mode == .finetune)
        #expect(c.probe.cGrid == [0.01, 1, 10] && c.probe.maxIterations == 50)
        #expect(c.finetune.headEpochs == 2 && c.finetune.bodyLearningRateScale == 0.05 && !c.finetune.freezeBatchNorm)
        #expect(c.finetune.headInit == .random && TrainingConfiguration().finetune.headInit == .probe)
        #expect(!c.finetune.bodyDropout && TrainingConfiguration().finetune.bodyDropout)
        #expect(try TrainingConfiguration.fromJSON(c.jsonText()) == c)
        let defaults = TrainingConfiguration()
        #expect(defaults.train.mode == .scratch && defaults.model.initCheckpoint == nil)
        #expect(defaults.finetune.headEpochs == 5 && defaults.finetune.bodyLearningRateScale == 0.1)
    }

    @Test func badTransferKeysNameTheKey() {
        let cases = [
            ("[train]\nmode = \"probe\"\n", "model.init"),
            ("[model]\ninit = \"a.h5\"\n", "model.init"),
            ("[train]\nmode = \"distil\"\n", "train.mode"),
            ("[model]\ninit = \"a.h5\"\n[train]\nmode = \"probe\"\n[probe]\nc_grid = []\n", "probe.c_grid"),
            ("[model]\ninit = \"a.h5\"\n[train]\nmode = \"probe\"\n[probe]\nc_grid = [1, -2]\n", "probe.c_grid"),
            ("[finetune]\nhead_epochs = -1\n", "finetune.head_epochs"),
            ("[finetune]\nbody_learning_rate_scale = -0.5\n", "finetune.body_learning_rate_scale"),
            ("[finetune]\nwarm = 1\n", "finetune.warm"),
        ]
        for (toml, key) in cases {
            #expect { _ = try TrainingConfiguration.parse(toml: toml, file: "t.toml") } throws: { error in
                let text = "\(error)"
                return text.contains(key) && text.contains("t.toml") && !text.contains("\n")
            }
        }
    }

    @Test func shippedProbeAndFinetuneConfigurationsLoad() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("pipelines").path
        let probe = try TrainingConfiguration.load(path: folder + "/probe.toml")
        #expect(probe.train.mode == .probe && probe.model.initCheckpoint == "models/musicnn-msd-vgg.h5")
        #expect(probe.model.cropFrames == 187 && probe.probe == TrainingConfiguration.Probe())
        let finetune = try TrainingConfiguration.load(path: folder + "/finetune.toml")
        #expect(finetune.train.mode == .finetune && finetune.model.cropFrames == 187)
        #expect(finetune.finetune == TrainingConfiguration.Finetune())
    }
}
