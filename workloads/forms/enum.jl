# Form: @enum types used for dispatch-like branching, as Dict keys, and as strings.
using Printf

@enum Suit hearts diamonds clubs spades
@enum Rank::Int8 two=2 three four five six seven eight nine ten jack queen king ace
@enum Status begin
    pending
    active
    closed
end

struct Card
    rank::Rank
    suit::Suit
end

iscolor_red(s::Suit) = s == hearts || s == diamonds
symbol(s::Suit) = s == hearts ? "♥" : s == diamonds ? "♦" : s == clubs ? "♣" : "♠"

function rank_label(r::Rank)
    r <= ten && return string(Int(r))
    return uppercase(string(r)[1:1])  # jack -> "J", queen -> "Q", ...
end

label(c::Card) = rank_label(c.rank) * symbol(c.suit)
points(c::Card) = c.rank <= ten ? Int(c.rank) : c.rank == ace ? 11 : 10

# Dispatch on an enum value via Val, a common way to get per-value methods.
transition(s::Status) = transition(Val(s))
transition(::Val{pending}) = active
transition(::Val{active}) = closed
transition(::Val{closed}) = closed

function full_deck()
    return [Card(r, s) for s in instances(Suit) for r in instances(Rank)]
end

# Take every 7th card of the deck: a deterministic "hand" instead of shuffling.
hand(deck; step = 7) = deck[1:step:end]

function main()
    deck = full_deck()
    h = hand(deck)
    by_suit = Dict{Suit,Vector{Card}}()
    for c in h
        push!(get!(by_suit, c.suit, Card[]), c)
    end
    lines = String[]
    for s in sort(collect(keys(by_suit)))
        cards = sort(by_suit[s], by = c -> c.rank)
        pts = sum(points, cards)
        push!(lines, @sprintf("%-8s red=%-5s %s (%d)", string(s), iscolor_red(s),
                              join(label.(cards), " "), pts))
    end
    counts = Dict(s => count(c -> c.suit == s, deck) for s in instances(Suit))
    parsed = Suit(findfirst(==("clubs"), string.(instances(Suit))) - 1)
    states = Status[pending]
    for _ in 1:3
        push!(states, transition(states[end]))
    end
    return (join(lines, "\n"), counts[spades], string(parsed), Int(typemax(Rank)),
            join(string.(states), ">"), repr(Rank(12)), length(instances(Rank)))
end
