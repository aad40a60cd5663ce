-- wrk script: the request of a case, `depth` of them per write (pipelining when above 1).
-- Usage: wrk -s requests.lua <url> -- <depth> [<method> <content-type> <body file>]
init = function(args)
  local depth = tonumber(args[1]) or 1
  local request
  if args[2] then
    local file = assert(io.open(args[4], "rb"))
    local body = file:read("*a")
    file:close()
    request = wrk.format(args[2], nil, { ["Content-Type"] = args[3], ["Content-Length"] = tostring(#body) }, body)
  else
    request = wrk.format()
  end
  local requests = {}
  for i = 1, depth do
    requests[i] = request
  end
  batch = table.concat(requests)
end

request = function()
  return batch
end
