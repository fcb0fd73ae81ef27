-- bench/paced.lua: each connection waits 1 ms after every answer, so every
-- server gets about the same request rate (16 connections: ~8k req/s) and
-- latencies compare at equal load. See bench/README.md.
function delay()
  return 1
end
