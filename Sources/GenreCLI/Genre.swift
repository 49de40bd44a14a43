import ArgumentParser
import Foundation

/// `genre`: the GenreKit command-line tool. Each subcommand parses and validates its arguments (`validate()`,
/// `ValidationError`: ArgumentParser's message, the usage, exit status 64), calls one library function and prints
/// what it returns; what a failure prints and which status it exits with is decided in one place, `CommandFailure`.
@main
struct Genre: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "genre",
        abstract: "Turn a folder of music clips into log-mel HDF5 shards, a trained genre classifier and its evaluation.",
        subcommands: [Synth.self, Scan.self, Preprocess.self, Merge.self, Inspect.self, Verify.self, Train.self, Evaluate.self, CrossValidate.self, Predict.self, Export.self, Tags.self, PretrainedNetworks.self, BenchTrain.self])

    /// ArgumentParser's `main()`, except that an error thrown by the `run()` of one of `genre`'s commands is
    /// reported as one line `error: …` and mapped to its exit status by `CommandFailure`. Help, usage and validation
    /// errors, and ArgumentParser's own commands (`genre help`), are ArgumentParser's.
    static func main() {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let status as ExitCode {
            exit(withError: status)  // the command printed its own findings (verify, predict)
        } catch where isGenreCommand(command) {
            exit(withError: CommandFailure(error).report())
        } catch {
            exit(withError: error)
        }
    }

    /// Whether `command` is one of `subcommands` or of theirs (`pretrained import`), not ArgumentParser's built-in
    /// help command (whose `run()` throws the help request for `exit(withError:)` to print).
    private static func isGenreCommand(_ command: any ParsableCommand) -> Bool {
        func contains(_ commands: [any ParsableCommand.Type]) -> Bool {
            commands.contains {
                ObjectIdentifier($0) == ObjectIdentifier(type(of: command)) || contains($0.configuration.subcommands)
            }
        }
        return contains(configuration.subcommands)
    }
}
