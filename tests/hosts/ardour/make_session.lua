-- ardour7-lua make_session.lua DIR NAME RATE
--
-- Creates session NAME in DIR (which must not exist) at RATE Hz on the
-- backend luasession picks ("None (Dummy)"), adds the MIDI track "Trax"
-- with the VST3 instrument Trax, turns its `Follow host transport` and
-- `Follow: host time is output` parameters on, adds the Lua DSP "Trax
-- Probe" after it (see
-- scripts/trax_probe.lua) and saves. `cargo xtask ardour` then writes the
-- plugin's state (the setlist) into the saved session file.
-- Prints `trax-ardour: KEY VALUE` lines; exits nonzero on any failure.

local dir, name, rate = arg[1], arg[2], tonumber (arg[3])
if not (dir and name and rate) then
	print ("usage: make_session.lua DIR NAME RATE")
	os.exit (2)
end

local function fail (msg)
	print ("trax-ardour: error " .. msg)
	os.exit (1)
end

local s = create_session (dir, name, rate)
if not s then fail ("cannot create the session") end
print ("trax-ardour: rate " .. s:nominal_sample_rate ())
print ("trax-ardour: block " .. s:get_block_size ())

local info = ARDOUR.LuaAPI.new_plugin_info ("Trax", ARDOUR.PluginType.VST3)
if info:isnil () then fail ("VST3 plugin Trax not found (VST3_PATH)") end

local tracks = s:new_midi_track (
	ARDOUR.ChanCount (ARDOUR.DataType ("midi"), 1),
	ARDOUR.ChanCount (ARDOUR.DataType ("audio"), 2),
	false, info, nil, nil, 1, "Trax",
	ARDOUR.PresentationInfo.max_order, ARDOUR.TrackMode.Normal, true, false)
if tracks:size () ~= 1 then fail ("cannot add the MIDI track") end
local track = tracks:front ()
local trax = track:nth_plugin (0)
if trax:isnil () then fail ("the track has no instrument") end
print ("trax-ardour: plugin " .. trax:display_name ())

-- Find `Follow host transport` among the control inputs; count them (the
-- phantom MIDI CC parameters show up here).
local follow, follow_out, n_params = nil, nil, 0
while true do
	-- plugin_automation raises "Invalid Parameter" past the last one.
	local ok, al, cl, pd = pcall (ARDOUR.LuaAPI.plugin_automation, trax, n_params)
	if not ok or al:isnil () then break end
	if pd.label == "Follow host transport" then follow = n_params end
	if pd.label == "Follow: host time is output" then follow_out = n_params end
	-- How Ardour shows it: a toggle, a list of named values, steps.
	print ("trax-ardour: param " .. n_params .. " '" .. pd.label .. "' toggled "
		.. tostring (pd.toggled) .. " enumeration " .. tostring (pd.enumeration)
		.. " integer_step " .. tostring (pd.integer_step) .. " upper " .. tostring (pd.upper))
	n_params = n_params + 1
end
print ("trax-ardour: parameters " .. n_params)
if not follow then fail ("no parameter 'Follow host transport'") end
if not ARDOUR.LuaAPI.set_processor_param (trax, follow, 1) then
	fail ("cannot set 'Follow host transport'")
end
print ("trax-ardour: follow_index " .. follow)
-- Ardour runs each plugin at the position of its output.
if follow_out and not ARDOUR.LuaAPI.set_processor_param (trax, follow_out, 1) then
	fail ("cannot set 'Follow: host time is output'")
end

local probe = ARDOUR.LuaAPI.new_plugin (s, "Trax Probe", ARDOUR.PluginType.Lua, "")
if probe:isnil () then fail ("Lua DSP 'Trax Probe' not found") end
-- After the instrument; the fader and panner come later in the chain.
if track:add_processor_by_index (probe, 1, nil, true) ~= 0 then
	fail ("cannot add the probe")
end

s:save_state ("", false, false, false, false, false)
print ("trax-ardour: saved " .. dir)
close_session ()
