# Effect: consts whose values differ in every process. Code compiled in one
# session may have these values folded in as constants; a reloaded session must
# use its own values, so a checker compares the derived results with SEED/T0.
const SEED = rand(1:10^6)
const T0 = time()

scaled(x) = x * SEED
elapsed_since_start() = T0
offset_label(n) = string("seed+", n, "=", SEED + n)

function main()
    return (SEED, scaled(2), offset_label(1), T0, elapsed_since_start())
end
