package node

// GenesisFile is the path of the node's genesis file: genesis_file of
// HOME/config/config.toml, by default HOME/config/genesis.json.
func GenesisFile(home string) (string, error) {
	c, err := loadConfig(home)
	if err != nil {
		return "", err
	}
	return c.GenesisFile(), nil
}
