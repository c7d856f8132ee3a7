# Effect: a const that runs an external process once, at load time. The process
# appends a line to spawned.txt, so a checker can count how often it ran.
const DIR = ENV["JLC_EFFECTS_DIR"]
const SPAWNED = read(`sh -c "echo x >> $(DIR)/spawned.txt; echo ok"`, String)

status() = strip(SPAWNED)
is_ok() = status() == "ok"

function main()
    return (String(status()), is_ok(), length(SPAWNED))
end
