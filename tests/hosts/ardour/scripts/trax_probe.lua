ardour {
	["type"]    = "dsp",
	name        = "Trax Probe",
	category    = "Utility",
	license     = "MIT",
	author      = "Trax (tests/hosts/ardour)",
	description = [[Passes stereo audio through and records every process() call: transport rolling, engine freewheeling, the session's transport position, the block length and the block's peak. `cargo xtask ardour` reads the records from the plugin's shared memory after an export.]]
}

-- Records kept (each RECORD_INTS ints); later calls are counted, not kept.
-- 16384 blocks of 1024 frames = 349 s at 48 kHz, far more than an export.
local MAX_RECORDS = 16384
local RECORD_INTS = 4

function dsp_ioconfig ()
	return { { audio_in = 2, audio_out = 2 } }
end

function dsp_init (rate)
	-- int 0: records kept; int 1: calls made; then the records.
	self:shmem():allocate (2 + MAX_RECORDS * RECORD_INTS)
	self:shmem():clear ()
end

function dsp_run (ins, outs, n_samples)
	local peak = 0
	for c = 1, #outs do
		if ins[c] ~= outs[c] then
			ARDOUR.DSP.copy_vector (outs[c], ins[c], n_samples)
		end
		peak = ARDOUR.DSP.compute_peak (outs[c], n_samples, peak)
	end
	local shm = self:shmem ()
	shm:atomic_set_int (1, shm:atomic_get_int (1) + 1)
	local count = shm:atomic_get_int (0)
	if count >= MAX_RECORDS then
		return
	end
	local flags = 0
	if Session:transport_rolling () then flags = flags + 1 end
	if Session:engine ():freewheeling () then flags = flags + 2 end
	local rec = shm:to_int (2 + count * RECORD_INTS):array ()
	rec[1] = flags
	rec[2] = Session:transport_sample ()
	rec[3] = n_samples
	rec[4] = math.floor (peak * 1000000)
	shm:atomic_set_int (0, count + 1)
end
