-- aglm.optimize's report, checked from a script: model=FILE level=OL expects nodes_before=B
-- nodes_after=A [missing=NAME]. Prints "report ok ..." or raises naming what differs.
local aglm = require "aglm"
local a = aglm.args
local g = aglm.load(a.model)
local r = aglm.optimize(g, a.level)
local function want(what, got, expected)
  if got ~= expected then
    error(("%s: got %s, expected %s"):format(what, tostring(got), tostring(expected)))
  end
end
want("level", r.level, a.level)
want("nodes_before", r.nodes_before, tonumber(a.nodes_before))
want("nodes_after", r.nodes_after, tonumber(a.nodes_after))
want("nodes_after against the graph", r.nodes_after, g:num_nodes())
want("ms is a number", math.type(r.ms), "float")
local prev_after = r.nodes_before
for i, p in ipairs(r.passes) do
  want(("passes[%d].nodes_before follows the pass before"):format(i), p.nodes_before, prev_after)
  want(("passes[%d].changed is a boolean"):format(i), type(p.changed), "boolean")
  if p.ms < 0 then error(("passes[%d].ms is negative"):format(i)) end
  prev_after = p.nodes_after
end
want("the last pass's nodes_after", prev_after, r.nodes_after)
if a.missing then
  local found = false
  for _, m in ipairs(r.missing) do found = found or m == a.missing end
  if not found then error(("missing lacks '%s' (has: %s)"):format(a.missing, table.concat(r.missing, ", "))) end
end
local names = {}
for i, p in ipairs(r.passes) do names[i] = p.name .. ":" .. p.nodes_before .. "->" .. p.nodes_after end
print(("report ok %s rounds=%d passes=%s"):format(r.level, r.rounds, table.concat(names, ",")))
local ok, err = pcall(aglm.optimize, g, "O7")
if ok or not tostring(err):find("level 'O7'", 1, true) then
  error("optimize at O7 was not refused by name: " .. tostring(err))
end
