// SyntheticCorpus: placeholder until the module lands.
