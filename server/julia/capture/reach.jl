# Unions over a directed graph, computed once: for every node, the union of `own(n)` over all nodes reachable from
# it (itself included). Tarjan's strongly connected components, iteratively (deep call chains must not overflow
# the stack); each component is finished after every component it reaches, so its set is built from theirs.
# Nodes of one component share one set: callers must not mutate the result.

function reach_unions(roots, succ::Function, own::Function, ::Type{K}, ::Type{V}) where {K,V}
    index = Dict{K,Int}(); low = Dict{K,Int}(); onstack = Set{K}()
    stack = K[]; edges = Dict{K,Vector{K}}(); result = Dict{K,Set{V}}()
    next_index = 0
    for r in roots
        haskey(index, r) && continue
        work = Tuple{K,Int}[(r, 1)]
        while !isempty(work)
            v, i = work[end]
            if i == 1
                next_index += 1
                index[v] = low[v] = next_index
                push!(stack, v); push!(onstack, v)
                edges[v] = collect(K, succ(v))
            end
            es = edges[v]
            if i <= length(es)
                work[end] = (v, i + 1)
                w = es[i]
                if !haskey(index, w)
                    push!(work, (w, 1))
                elseif w in onstack
                    low[v] = min(low[v], index[w])
                end
                continue
            end
            pop!(work)
            isempty(work) || (u = work[end][1]; low[u] = min(low[u], low[v]))
            low[v] == index[v] || continue
            members = K[]
            while true
                w = pop!(stack); delete!(onstack, w); push!(members, w)
                w === v && break
            end
            s = Set{V}()
            for m in members
                union!(s, own(m))
                for w in edges[m]
                    t = get(result, w, nothing)
                    t === nothing || union!(s, t)    # nothing: w is in this component
                end
            end
            for m in members
                result[m] = s
            end
        end
    end
    return result
end
