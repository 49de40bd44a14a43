// Pipeline: placeholder until the module lands.
