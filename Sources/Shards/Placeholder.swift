// Shards: placeholder until the module lands.
