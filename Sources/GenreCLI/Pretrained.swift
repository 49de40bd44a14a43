import ArgumentParser
import Foundation
import Pretrained

extension Genre {
    /// `genre pretrained import NETWORK`: pre-trained networks into GenreKit checkpoints.
    struct PretrainedNetworks: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "pretrained",
            abstract: "Pre-trained networks: import one into a GenreKit checkpoint (for genre tags, probes and fine-tuning).",
            subcommands: [Import.self])

        /// The networks `genre pretrained import` knows.
        enum Network: String, ExpressibleByArgument, CaseIterable {
            case musicnnMSDVGG = "musicnn-msd-vgg"
        }

        struct Import: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Read a network's TensorFlow checkpoint natively and write it as a GenreKit checkpoint.",
                discussion: "musicnn-msd-vgg: musicnn 0.1.0's MSD_vgg (ISC licence; 50 Million Song Dataset tags), read "
                    + "from the PyPI wheel (`pip download --no-deps musicnn==0.1.0`) or an unzipped folder. Every tensor's "
                    + "CRC-32C and shape are checked. `make pretrained` does this into models/musicnn-msd-vgg.h5.")

            @Argument(help: "The network: \(Network.allCases.map(\.rawValue).joined(separator: ", ")).")
            var network: Network

            @Option(help: "The wheel (a zip) holding the checkpoint.")
            var wheel: String?

            @Option(help: "An unzipped folder: the checkpoint's own folder or the wheel's root.")
            var dir: String?

            @Option(help: "The GenreKit checkpoint to write (HDF5).")
            var out: String

            func validate() throws {
                if (wheel == nil) == (dir == nil) { throw ValidationError("give --wheel FILE or --dir DIR") }
            }

            func run() throws {
                let source: MusicnnSource = wheel.map { .wheel(path: $0) } ?? .directory(path: dir!)
                switch network {
                case .musicnnMSDVGG:
                    print(try PretrainedImport.importMusicnnMSDVGG(from: source, to: out).text)
                }
            }
        }
    }
}
