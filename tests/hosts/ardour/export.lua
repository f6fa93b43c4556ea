-- ardour7-lua export.lua DIR NAME OUT_DIR OUT_NAME START END PRESET_ID
--
-- Loads session NAME from DIR, exports the master bus from frame START to
-- END (Ardour's export: freewheel, after its export pre-roll) to
-- OUT_DIR/OUT_NAME.wav with the export preset PRESET_ID (float WAV at the
-- session rate, see export/), then prints what the "Trax Probe" recorded
-- during the export as runs of blocks:
--   trax-ardour: run CALLS ROLLING FREEWHEEL FIRST_POS LAST_POS FRAMES MAX_PEAK
-- (positions are the session's transport position at each block; peak is
-- the block's peak after Trax, 0..1), then a summary: the export pre-roll
-- and the first rolling blocks.

local dir, name, out_dir, out_name = arg[1], arg[2], arg[3], arg[4]
local first, last, preset = tonumber (arg[5]), tonumber (arg[6]), arg[7]
if not (dir and name and out_dir and out_name and first and last and preset) then
	print ("usage: export.lua DIR NAME OUT_DIR OUT_NAME START END PRESET_ID")
	os.exit (2)
end

local function fail (msg)
	print ("trax-ardour: error " .. msg)
	os.exit (1)
end

local s = load_session (dir, name)
if not s then fail ("cannot load the session") end

local shm = nil
for r in s:get_routes ():iter () do
	local i = 0
	while true do
		local p = r:nth_plugin (i)
		if p:isnil () then break end
		if p:display_name () == "Trax Probe" then
			shm = p:to_insert ():plugin (0):to_luaproc ():shmem ()
		end
		i = i + 1
	end
end
if not shm then fail ("no 'Trax Probe' in the session") end

local e = s:simple_export ()
if not e:set_preset (preset) then fail ("no export preset " .. preset) end
e:set_folder (out_dir)
e:set_name (out_name)
e:set_range (first, last)
-- Forget the blocks run while the session sat idle.
shm:atomic_set_int (0, 0)
shm:atomic_set_int (1, 0)
local ok = e:run_export ()
local kept = shm:atomic_get_int (0)
print ("trax-ardour: calls " .. shm:atomic_get_int (1) .. " kept " .. kept)

-- Runs of blocks with the same state whose positions advance by the
-- block length (rolling) or stay (stopped).
local rec = shm:to_int (2):array ()
local run = nil
-- Before the first rolling block: frames run freewheeling, transport stopped.
local preroll, preroll_peak, rolled, first_rolling = 0, 0, false, {}
-- The first block whose peak exceeds -80 dBFS (100 in millionths).
local audible = nil
print ("trax-ardour: runs: CALLS ROLLING FREEWHEEL FIRST_POS LAST_POS FRAMES MAX_PEAK")
local function flush ()
	if run then
		print (string.format ("trax-ardour: run %5d %d %d %9d %9d %9d %.4f",
			run.calls, run.flags & 1, (run.flags >> 1) & 1,
			run.first, run.last, run.frames, run.peak / 1000000))
	end
end
local frames_before = 0
for i = 0, kept - 1 do
	local flags, pos, n, peak = rec[i * 4 + 1], rec[i * 4 + 2], rec[i * 4 + 3], rec[i * 4 + 4]
	if not audible and peak > 100 then
		audible = string.format ("call %d of %d, rolling %d, freewheel %d, transport %d, %d frames into the export",
			i + 1, kept, flags & 1, (flags >> 1) & 1, pos, frames_before)
	end
	frames_before = frames_before + n
	if flags & 1 == 1 then
		rolled = true
		if #first_rolling < 4 then
			first_rolling[#first_rolling + 1] = string.format ("%d (+%d)", pos, n)
		end
	elseif not rolled and flags & 2 == 2 then
		preroll = preroll + n
		if peak > preroll_peak then preroll_peak = peak end
	end
	local continues = run and run.flags == flags and (
		(flags & 1 == 1 and pos == run.last + run.n) or (flags & 1 == 0 and pos == run.last))
	if continues then
		run.calls = run.calls + 1
		run.last = pos
		run.n = n
		run.frames = run.frames + n
		if peak > run.peak then run.peak = peak end
	else
		flush ()
		run = { calls = 1, flags = flags, first = pos, last = pos, n = n, frames = n, peak = peak }
	end
end
flush ()
print (string.format ("trax-ardour: export pre-roll: %d frames (%.3f s) freewheeling with the transport stopped, peak %.4f",
	preroll, preroll / s:nominal_sample_rate (), preroll_peak / 1000000))
print ("trax-ardour: first audible block: " .. (audible or "none"))
print ("trax-ardour: first rolling blocks at transport (frames): " .. table.concat (first_rolling, ", "))

if not ok then fail ("export failed") end
print ("trax-ardour: exported " .. out_dir .. "/" .. out_name .. ".wav")
close_session ()
