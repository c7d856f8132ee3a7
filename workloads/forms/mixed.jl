# Form: a realistic mixed script, as a user would write it: a small inventory
# program that parses a CSV-like text, keeps stock in structs, and prints a report.
# Combines a module, docstrings, an @enum, a @kwdef config, closures, do-blocks,
# show methods, keyword arguments and a hand-written parser.
using Printf, Dates, Statistics

module Inventory

using Printf, Dates

export Category, tools, garden, kitchen, toys, Item, Stock, parse_category,
       add!, remove!, value, low_stock

"Product categories; the order here is the order used in reports."
@enum Category tools garden kitchen toys

"""
    parse_category(s)

Map a category name (any case, surrounding spaces allowed) to a `Category`.
"""
function parse_category(s::AbstractString)
    key = lowercase(strip(s))
    for c in instances(Category)
        string(c) == key && return c
    end
    throw(ArgumentError("unknown category: $(repr(s))"))
end

"One product line in the stock."
struct Item
    sku::String
    name::String
    category::Category
    price::Float64
    added::Date
end

"The stock: items by SKU and the quantity on hand for each."
mutable struct Stock
    items::Dict{String,Item}
    quantity::Dict{String,Int}
    history::Vector{String}
end
Stock() = Stock(Dict{String,Item}(), Dict{String,Int}(), String[])

"Add `n` units of `item`, registering it if new."
function add!(s::Stock, item::Item, n::Integer)
    s.items[item.sku] = item
    s.quantity[item.sku] = get(s.quantity, item.sku, 0) + n
    push!(s.history, "+$n $(item.sku)")
    return s
end

"Remove up to `n` units; returns how many were actually removed."
function remove!(s::Stock, sku::AbstractString, n::Integer)
    have = get(s.quantity, sku, 0)
    taken = min(have, n)
    s.quantity[sku] = have - taken
    push!(s.history, "-$taken $sku")
    return taken
end

"Total value of the stock, optionally restricted to one category."
function value(s::Stock; category::Union{Nothing,Category} = nothing)
    total = 0.0
    for (sku, q) in s.quantity
        item = s.items[sku]
        if category === nothing || item.category == category
            total += q * item.price
        end
    end
    return total
end

"SKUs whose quantity is below `threshold`, sorted."
low_stock(s::Stock; threshold::Int = 5) =
    sort([sku for (sku, q) in s.quantity if q < threshold])

Base.show(io::IO, it::Item) = @printf(io, "%s %-14s %-7s %8.2f", it.sku, it.name, it.category, it.price)
Base.show(io::IO, s::Stock) = print(io, "Stock(", length(s.items), " items, ",
                                    reduce(+, values(s.quantity); init = 0), " units)")

end # module Inventory

using .Inventory

"Report settings; callers override only what they need."
Base.@kwdef struct ReportConfig
    title::String = "Inventory report"
    currency::String = "EUR"
    low_threshold::Int = 5
    show_history::Bool = false
    as_of::Date = Date(2024, 3, 31)
end

"""
    parse_inventory(text)

Parse lines of `sku; name; category; price; quantity; yyyy-mm-dd`.
Blank lines and lines starting with `#` are skipped; bad lines are collected
as error messages instead of aborting the whole import.
"""
function parse_inventory(text::AbstractString)
    rows = Tuple{Item,Int}[]
    errors = String[]
    for (lineno, raw) in enumerate(split(text, '\n'))
        line = strip(raw)
        (isempty(line) || startswith(line, "#")) && continue
        fields = strip.(split(line, ';'))
        if length(fields) != 6
            push!(errors, "line $lineno: expected 6 fields, got $(length(fields))")
            continue
        end
        sku, name, cat, price, qty, date = fields
        try
            y, m, d = parse.(Int, split(date, '-'))
            item = Item(sku, name, parse_category(cat), parse(Float64, price), Date(y, m, d))
            push!(rows, (item, parse(Int, qty)))
        catch e
            push!(errors, "line $lineno: " * sprint(showerror, e))
        end
    end
    return rows, errors
end

const DATA = """
# sku; name; category; price; quantity; added
T-001; Hammer; tools; 12.50; 14; 2023-11-02
T-002; Screwdriver set; tools; 19.99; 3; 2024-01-15
G-001; Rake; garden; 24.00; 7; 2023-09-30
G-002; Hose 20m; Garden; 31.45; 2; 2024-02-20
K-001; Chef knife; kitchen; 45.00; 6; 2023-12-01
K-002; Cutting board; kitchen; 15.75; 11; 2024-03-05
Y-001; Kite; toys; 9.90; 25; 2024-03-18
Y-002; Puzzle 1000; toys; 13.20; x; 2024-03-19
Z-001; Mystery; misc; 1.00; 1; 2024-01-01
broken line without separators
"""

"Age in days of each item relative to the report date."
ages(stock::Stock, as_of::Date) = Dict(sku => Dates.value(as_of - it.added) for (sku, it) in stock.items)

function render(stock::Stock, cfg::ReportConfig, errors::Vector{String})
    return sprint() do io
        println(io, cfg.title, " (", Dates.format(cfg.as_of, "d u yyyy"), ")")
        println(io, repeat('=', length(cfg.title)))
        for cat in instances(Category)
            skus = sort([k for (k, it) in stock.items if it.category == cat])
            isempty(skus) && continue
            @printf(io, "%s: %.2f %s\n", uppercase(string(cat)), value(stock; category = cat), cfg.currency)
            foreach(skus) do sku
                println(io, "  ", stock.items[sku], "  x", lpad(stock.quantity[sku], 3))
            end
        end
        @printf(io, "Total: %.2f %s\n", value(stock), cfg.currency)
        println(io, "Low stock (<", cfg.low_threshold, "): ", join(low_stock(stock; threshold = cfg.low_threshold), ", "))
        age = ages(stock, cfg.as_of)
        @printf(io, "Median age: %.1f days\n", median(collect(values(age))))
        cfg.show_history && println(io, "History: ", join(stock.history, " "))
        print(io, "Import errors: ", length(errors))
        foreach(e -> print(io, "\n  ", e), errors)
    end
end

function main()
    rows, errors = parse_inventory(DATA)
    stock = Stock()
    for (item, qty) in rows
        add!(stock, item, qty)
    end
    # a day of sales, by SKU; asking for more than is in stock sells what there is
    sales = ["T-001" => 4, "Y-001" => 10, "G-002" => 5, "K-001" => 1]
    sold = Dict(sku => remove!(stock, sku, n) for (sku, n) in sales)
    cfg = ReportConfig(title = "Shop inventory", show_history = true)
    text = render(stock, cfg, errors)
    # closures over the stock for a quick price analysis
    prices = [it.price for it in values(stock.items)]
    pricier_than = p -> count(x -> x > p, prices)
    by_value = sort(collect(keys(stock.items)), by = k -> -stock.quantity[k] * stock.items[k].price)
    return (text, string(stock), sold["G-002"], pricier_than(20.0),
            round(mean(prices); digits = 4), join(by_value[1:3], ","), length(errors))
end
