package main

import (
	_ "github.com/emiago/sipgo"
	_ "github.com/mattn/go-sqlite3"
	_ "github.com/pion/rtcp"
	_ "github.com/pion/rtp"
	_ "github.com/pion/sdp/v3"
	_ "github.com/pion/srtp/v3"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/redis/go-redis/v9"
	_ "gopkg.in/yaml.v3"
)

func main() {}
