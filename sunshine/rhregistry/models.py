"""熊猫血友会: the voluntary, confidential Rh-negative mutual-aid registry (SPEC §11)."""
