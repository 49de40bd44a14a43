import GenreCore

/// The three partitions of a corpus. Raw values are the names used in shard file names and attributes.
public enum DataSplit: String, Sendable, Codable, CaseIterable, Comparable {
    case train, valid, test

    public static func < (a: DataSplit, b: DataSplit) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Assigns clips to train, valid and test: stratified by class with a seed, or from split-list files.
public enum Splitter {
    /// Stratified random split: within each class (in the order given), a seeded permutation; the first
    /// `n - n_valid - n_test` go to train. `n_valid = round(valid * n)`, `n_test = round(test * n)`, each at least 1
    /// when the class has 3 or more clips and the fraction is not 0. One generator runs through the classes in order.
    public static func stratified(
        labels: [Int], classCount: Int, train: Double, valid: Double, test: Double, seed: UInt64
    ) -> [DataSplit] {
        var result = [DataSplit](repeating: .train, count: labels.count)
        var rng = SplitMix64(seed: seed)
        for c in 0..<classCount {
            var members = labels.indices.filter { labels[$0] == c }
            let n = members.count
            guard n > 0 else { continue }
            rng.shuffle(&members)
            var nValid = Int((valid * Double(n)).rounded())
            var nTest = Int((test * Double(n)).rounded())
            if n >= 3 {
                if valid > 0 { nValid = max(1, nValid) }
                if test > 0 { nTest = max(1, nTest) }
            }
            nValid = min(nValid, n)
            nTest = min(nTest, n - nValid)
            let nTrain = n - nValid - nTest
            for (k, i) in members.enumerated() {
                result[i] = k < nTrain ? .train : (k < nTrain + nValid ? .valid : .test)
            }
        }
        return result
    }

    /// What matching the corpus against split lists found.
    public struct ListAssignment: Sendable {
        /// The split of each path, nil when no list names it.
        public var splits: [DataSplit?]
        /// List entries that name no file of the corpus, per split.
        public var unmatched: [DataSplit: [String]]
        /// Paths named by more than one list; the first split (train, valid, test order) wins.
        public var conflicts: [String]
    }

    /// The key a path is matched by: relative path without its extension, so `blues/blues.00001.au` and
    /// `blues/blues.00001.wav` are the same clip.
    public static func matchKey(_ path: String) -> String {
        var p = path.replacingOccurrences(of: "\\", with: "/")
        while p.hasPrefix("./") { p.removeFirst(2) }
        if let slash = p.lastIndex(of: "/"), let dot = p.lastIndex(of: "."), dot > slash { return String(p[..<dot]) }
        if !p.contains("/"), let dot = p.lastIndex(of: ".") { return String(p[..<dot]) }
        return p
    }

    /// Parses a split-list text: one relative path per line; blank lines and lines starting with '#' are ignored;
    /// a tab-separated line takes its last column (the reference's `split.tsv` rows work too).
    public static func parseList(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard !t.isEmpty, !t.hasPrefix("#") else { return nil }
            let last = t.split(separator: "\t").last.map(String.init) ?? t
            return last == "relpath" ? nil : last
        }
    }

    /// Matches corpus paths against split lists (without extensions).
    public static func fromLists(paths: [String], lists: [DataSplit: [String]]) -> ListAssignment {
        var splitOfKey: [String: DataSplit] = [:]
        var conflicts: [String] = []
        for split in DataSplit.allCases {
            for entry in lists[split] ?? [] {
                let key = matchKey(entry)
                if let earlier = splitOfKey[key] {
                    if earlier != split { conflicts.append(entry) }
                } else {
                    splitOfKey[key] = split
                }
            }
        }
        let keys = paths.map(matchKey)
        let present = Set(keys)
        var unmatched: [DataSplit: [String]] = [:]
        for split in DataSplit.allCases {
            let missing = (lists[split] ?? []).filter { !present.contains(matchKey($0)) }
            if !missing.isEmpty { unmatched[split] = missing }
        }
        return ListAssignment(splits: keys.map { splitOfKey[$0] }, unmatched: unmatched, conflicts: conflicts)
    }
}

import GenreCore
import Foundation
