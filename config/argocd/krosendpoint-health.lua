-- Argo CD health check for cockpit.krosai.com/KrosEndpoint (kros-operator).
--
-- Argo CD runs this with the live object bound to `obj` and without Lua's
-- string library (it loads only base, package, table and a restricted os),
-- and reads back the table {status = ..., message = ...} it returns.
--
-- The one rule it never bends: Healthy only when Ready is True for the current
-- generation. A missing, partial or stale status is Progressing, not Healthy.
--
--   deletionTimestamp set                    Progressing
--   paused annotation "true"                 Suspended
--   Stalled=True for the current generation  Degraded (the Stalled message)
--   Ready=True for the current generation    Healthy (the Ready message)
--   anything else                            Progressing (the operator's message)
--
-- "Current generation" means status.observedGeneration == metadata.generation.
-- A Stalled condition older than the spec is Progressing: the edit may be the
-- fix, and the operator has not looked at it yet (kstatus agrees). Argo CD
-- itself reports an object with a deletionTimestamp as Progressing without
-- running this script; the script gives the same answer, so that it is right
-- wherever it runs.
-- Keep this file and argocd-cm-patch.yaml identical (a test checks it).

local PAUSED_ANNOTATION = "cockpit.krosai.com/paused"

local function tableOrEmpty(value)
  if type(value) == "table" then
    return value
  end
  return {}
end

local function findCondition(conditions, conditionType)
  for _, condition in ipairs(conditions) do
    if type(condition) == "table" and condition.type == conditionType then
      return condition
    end
  end
  return nil
end

local function isTrue(condition)
  return condition ~= nil and condition.status == "True"
end

local function messageOf(condition)
  if condition ~= nil and type(condition.message) == "string" and condition.message ~= "" then
    return condition.message
  end
  return nil
end

local metadata = tableOrEmpty(obj.metadata)
local annotations = tableOrEmpty(metadata.annotations)
local status = tableOrEmpty(obj.status)
local conditions = tableOrEmpty(status.conditions)

local ready = findCondition(conditions, "Ready")
local reconciling = findCondition(conditions, "Reconciling")
local stalled = findCondition(conditions, "Stalled")

local generation = tonumber(metadata.generation)
local observedGeneration = tonumber(status.observedGeneration)
local current = generation ~= nil and observedGeneration ~= nil and observedGeneration == generation

-- What the operator last said, for the message of any state but Healthy.
local lastWord = (isTrue(stalled) and messageOf(stalled))
  or (isTrue(reconciling) and messageOf(reconciling))
  or messageOf(ready)

local function health(code, message)
  return { status = code, message = message }
end

local function withLastWord(prefix)
  if lastWord then
    return prefix .. ": " .. lastWord
  end
  return prefix
end

local function describe(number)
  if number == nil then
    return "unknown"
  end
  return tostring(number)
end

if metadata.deletionTimestamp ~= nil then
  return health("Progressing", withLastWord("being deleted"))
end

if annotations[PAUSED_ANNOTATION] == "true" then
  if ready ~= nil and ready.reason == "Paused" and messageOf(ready) ~= nil then
    return health("Suspended", messageOf(ready))
  end
  return health("Suspended", "reconciliation is paused by the " .. PAUSED_ANNOTATION .. " annotation")
end

if isTrue(stalled) and current then
  return health("Degraded", messageOf(stalled) or "kros-operator reports Stalled")
end

if isTrue(ready) and current then
  -- The condition's own observedGeneration, when present, must agree too.
  local readyGeneration = tonumber(ready.observedGeneration)
  if readyGeneration == nil or readyGeneration == generation then
    return health("Healthy", messageOf(ready) or "Ready")
  end
end

if next(status) == nil then
  return health("Progressing", "waiting for kros-operator to report status")
end

if isTrue(reconciling) then
  return health("Progressing", messageOf(reconciling) or "Reconciling")
end

if not current then
  return health("Progressing", withLastWord("waiting for kros-operator to handle generation "
    .. describe(generation) .. " (last handled: " .. describe(observedGeneration) .. ")"))
end

if isTrue(ready) then
  return health("Progressing", "the Ready condition is for generation "
    .. describe(tonumber(ready.observedGeneration)) .. ", not the current " .. describe(generation))
end

return health("Progressing", messageOf(ready) or "waiting for the Ready condition")
