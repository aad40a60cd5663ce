-- wrk script: every write carries `depth` requests for the URL given to wrk (16 by default).
-- Usage: wrk -s pipeline.lua <url> -- <depth>
init = function(args)
  local depth = tonumber(args[1]) or 16
  local requests = {}
  for i = 1, depth do
    requests[i] = wrk.format()
  end
  batch = table.concat(requests)
end

request = function()
  return batch
end
