-- conformance_onnx.lua: what the conformance scripts need to know of a model.onnx without a
-- frontend: its top-level op types and the kind of each graph input and output (tensor,
-- sequence, map, optional, sparse). Read straight from the protobuf wire format, so it works
-- whatever the frontend makes of the file. Load it with dofile; it returns the module.

local M = {}

local function varint(s, pos)
  local v, shift = 0, 0
  while true do
    local b = s:byte(pos)
    if not b then error("truncated varint at byte " .. pos) end
    v = v | ((b & 0x7f) << shift)
    pos = pos + 1
    if b < 0x80 then return v, pos end
    shift = shift + 7
    if shift > 63 then error("varint longer than 10 bytes at byte " .. pos) end
  end
end

-- Calls fn(field, from, to) for each length-delimited field of the message s[from..to].
local function each_bytes_field(s, from, to, fn)
  local pos = from
  while pos <= to do
    local key
    key, pos = varint(s, pos)
    local field, wire = key >> 3, key & 7
    if wire == 0 then
      local _
      _, pos = varint(s, pos)
    elseif wire == 1 then
      pos = pos + 8
    elseif wire == 5 then
      pos = pos + 4
    elseif wire == 2 then
      local len
      len, pos = varint(s, pos)
      if len < 0 or pos + len - 1 > to then error("field " .. field .. " runs past its message") end
      fn(field, pos, pos + len - 1)
      pos = pos + len
    else
      error(("wire type %d at byte %d"):format(wire, pos))
    end
  end
end

-- TypeProto's value oneof: field number -> kind.
local TYPE_KINDS = { [1] = "tensor", [4] = "sequence", [5] = "map", [8] = "sparse", [9] = "optional" }

local function value_kind(s, a, b)
  local kind = "tensor" -- a ValueInfoProto without a type says nothing else
  each_bytes_field(s, a, b, function(f, ta, tb)
    if f == 2 then -- ValueInfoProto.type
      each_bytes_field(s, ta, tb, function(tf)
        if TYPE_KINDS[tf] then kind = TYPE_KINDS[tf] end
      end)
    end
  end)
  return kind
end

-- {ops = {"Relu", "ai.onnx.ml.Binarizer", ...}, inputs = {"tensor", ...}, outputs = {...}} for
-- the model in path (ModelProto.graph = 7; GraphProto.node = 1, input = 11, output = 12;
-- NodeProto.op_type = 4, domain = 7), or nil and a message.
function M.read_model(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local s = f:read("a")
  f:close()
  local m = { ops = {}, inputs = {}, outputs = {} }
  local ok, perr = pcall(each_bytes_field, s, 1, #s, function(field, a, b)
    if field ~= 7 then return end
    each_bytes_field(s, a, b, function(gf, ga, gb)
      if gf == 1 then
        local op, domain = "?", ""
        each_bytes_field(s, ga, gb, function(nf, na, nb)
          if nf == 4 then op = s:sub(na, nb) elseif nf == 7 then domain = s:sub(na, nb) end
        end)
        m.ops[#m.ops + 1] = (domain ~= "" and domain ~= "ai.onnx") and (domain .. "." .. op) or op
      elseif gf == 11 then
        m.inputs[#m.inputs + 1] = value_kind(s, ga, gb)
      elseif gf == 12 then
        m.outputs[#m.outputs + 1] = value_kind(s, ga, gb)
      end
    end)
  end)
  if not ok then return nil, ("%s: %s"):format(path, perr) end
  return m
end

return M
